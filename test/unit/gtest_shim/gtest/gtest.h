// gtest/gtest.h (shim) is a minimal stand-in for GoogleTest, used only by
// bench/gpu.sh on machines without libgtest: it runs the same test files
// (TEST, EXPECT_* / ASSERT_* with <<, GTEST_SKIP) and ends with
// "N passed, N failed, N skipped". Not a general replacement.
#pragma once

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace gtest_shim {

// Case is one registered TEST.
struct Case {
	const char *suite;
	const char *name;
	void (*fn)();
};

// Registry returns every registered case.
inline std::vector<Case> &Registry() {
	static std::vector<Case> cases;
	return cases;
}

// State holds the running case's outcome.
struct State {
	bool failed = false;
	bool skipped = false;
};
inline State &Current() {
	static State s;
	return s;
}

// Registrar adds a case at static initialization.
struct Registrar {
	Registrar(const char *suite, const char *name, void (*fn)()) { Registry().push_back({suite, name, fn}); }
};

// Message collects a failure's streamed text and prints it when destroyed.
class Message {
public:
	Message(const char *file, int line, const std::string &what, bool skip = false) : skip_(skip) {
		os_ << (skip ? "  skipped: " : "  FAILED at ") << (skip ? "" : file) << (skip ? "" : ":")
			<< (skip ? std::string() : std::to_string(line)) << (skip ? "" : ": ") << what << " ";
	}
	~Message() { std::printf("%s\n", os_.str().c_str()); }
	template <typename T>
	Message &operator<<(const T &v) {
		os_ << v;
		return *this;
	}

private:
	std::ostringstream os_;
	bool skip_;
};

// Voidify lets "return Voidify() = Message(...) << x;" type-check.
struct Voidify {
	void operator=(const Message &) {}
};

// RunAll runs every case and prints the summary; returns 1 on any failure.
inline int RunAll() {
	int passed = 0, failed = 0, skipped = 0;
	for (const Case &c : Registry()) {
		Current() = State{};
		std::printf("[ RUN  ] %s.%s\n", c.suite, c.name);
		std::fflush(stdout);
		c.fn();
		const char *tag = Current().failed ? "FAIL" : Current().skipped ? "SKIP" : "PASS";
		std::printf("[ %s ] %s.%s\n", tag, c.suite, c.name);
		std::fflush(stdout);
		if (Current().failed)
			failed++;
		else if (Current().skipped)
			skipped++;
		else
			passed++;
	}
	std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed == 0 ? 0 : 1;
}

}  // namespace gtest_shim

#define TEST(suite, name)                                                                          \
	static void suite##_##name##_Body();                                                           \
	static ::gtest_shim::Registrar suite##_##name##_registrar(#suite, #name, suite##_##name##_Body); \
	static void suite##_##name##_Body()

#define GTEST_SHIM_CHECK_(cond, text, on_fail)                                                      \
	if (cond)                                                                                       \
		;                                                                                           \
	else                                                                                            \
		on_fail ::gtest_shim::Voidify() =                                                           \
			(::gtest_shim::Current().failed = true, ::gtest_shim::Message(__FILE__, __LINE__, text))

#define GTEST_SHIM_EXPECT_(cond, text) GTEST_SHIM_CHECK_(cond, text, )
#define GTEST_SHIM_ASSERT_(cond, text) GTEST_SHIM_CHECK_(cond, text, return)

#define GTEST_SHIM_CMP_(a, op, b) ((a)op(b))
#define EXPECT_TRUE(c) GTEST_SHIM_EXPECT_(static_cast<bool>(c), "EXPECT_TRUE(" #c ")")
#define EXPECT_FALSE(c) GTEST_SHIM_EXPECT_(!static_cast<bool>(c), "EXPECT_FALSE(" #c ")")
#define ASSERT_TRUE(c) GTEST_SHIM_ASSERT_(static_cast<bool>(c), "ASSERT_TRUE(" #c ")")
#define ASSERT_FALSE(c) GTEST_SHIM_ASSERT_(!static_cast<bool>(c), "ASSERT_FALSE(" #c ")")
#define EXPECT_EQ(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, ==, b), "EXPECT_EQ(" #a ", " #b ")")
#define EXPECT_NE(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, !=, b), "EXPECT_NE(" #a ", " #b ")")
#define EXPECT_LT(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, <, b), "EXPECT_LT(" #a ", " #b ")")
#define EXPECT_LE(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, <=, b), "EXPECT_LE(" #a ", " #b ")")
#define EXPECT_GT(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, >, b), "EXPECT_GT(" #a ", " #b ")")
#define EXPECT_GE(a, b) GTEST_SHIM_EXPECT_(GTEST_SHIM_CMP_(a, >=, b), "EXPECT_GE(" #a ", " #b ")")
#define ASSERT_EQ(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, ==, b), "ASSERT_EQ(" #a ", " #b ")")
#define ASSERT_NE(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, !=, b), "ASSERT_NE(" #a ", " #b ")")
#define ASSERT_LT(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, <, b), "ASSERT_LT(" #a ", " #b ")")
#define ASSERT_LE(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, <=, b), "ASSERT_LE(" #a ", " #b ")")
#define ASSERT_GT(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, >, b), "ASSERT_GT(" #a ", " #b ")")
#define ASSERT_GE(a, b) GTEST_SHIM_ASSERT_(GTEST_SHIM_CMP_(a, >=, b), "ASSERT_GE(" #a ", " #b ")")
#define EXPECT_NEAR(a, b, tol) \
	GTEST_SHIM_EXPECT_(std::fabs(static_cast<double>(a) - static_cast<double>(b)) <= (tol), "EXPECT_NEAR(" #a ", " #b ")")
#define ASSERT_NEAR(a, b, tol) \
	GTEST_SHIM_ASSERT_(std::fabs(static_cast<double>(a) - static_cast<double>(b)) <= (tol), "ASSERT_NEAR(" #a ", " #b ")")
#define GTEST_SKIP()                                                                              \
	return ::gtest_shim::Voidify() =                                                              \
			   (::gtest_shim::Current().skipped = true, ::gtest_shim::Message(__FILE__, __LINE__, "", true))
