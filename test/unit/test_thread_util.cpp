// test_thread_util.cpp checks that every thread the engine starts (its own
// workers, libgomp's pool after WarmOpenMP) has all signals blocked, and that
// the calling thread's mask is left as it was; that OmpThreads sets OpenMP's
// count for its scope only; and that a ThreadStop reaches only its own thread.
#include <gtest/gtest.h>

#include <dirent.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "knowhere/thread_util.hpp"

namespace vecdb::knowhere {

namespace {

// kSignals are the signals a PostgreSQL backend handles.
const int kSignals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGCHLD};

// BlocksAll reports whether mask blocks every signal in kSignals.
bool BlocksAll(const sigset_t &mask) {
	for (int s : kSignals)
		if (sigismember(&mask, s) != 1)
			return false;
	return true;
}

// CurrentMask returns the calling thread's signal mask.
sigset_t CurrentMask() {
	sigset_t m;
	sigemptyset(&m);
	pthread_sigmask(SIG_BLOCK, nullptr, &m);
	return m;
}

// ThreadMasks returns the SigBlk masks of every thread of this process other
// than the calling one, read from /proc/self/task/*/status.
std::vector<unsigned long long> OtherThreadMasks() {
	std::vector<unsigned long long> masks;
	std::string self = std::to_string(gettid());
	DIR *dir = opendir("/proc/self/task");
	if (dir == nullptr)
		return masks;
	while (dirent *e = readdir(dir)) {
		std::string tid = e->d_name;
		if (tid == "." || tid == ".." || tid == self)
			continue;
		std::ifstream status("/proc/self/task/" + tid + "/status");
		std::string line;
		while (std::getline(status, line))
			if (line.rfind("SigBlk:", 0) == 0)
				masks.push_back(std::strtoull(line.c_str() + 7, nullptr, 16));
	}
	closedir(dir);
	return masks;
}

// MaskBlocksAll reports whether a /proc SigBlk mask (bit s - 1 for signal s)
// blocks every signal in kSignals.
bool MaskBlocksAll(unsigned long long mask) {
	for (int s : kSignals)
		if (((mask >> (s - 1)) & 1) == 0)
			return false;
	return true;
}

TEST(ThreadGroup, WorkersStartWithSignalsBlocked) {
	sigset_t before = CurrentMask();
	ASSERT_FALSE(sigismember(&before, SIGINT)) << "the test expects SIGINT unblocked in the caller";
	std::atomic<int> blocked{0}, ran{0};
	{
		ThreadGroup group;
		size_t started = group.Start(3, [&](size_t) noexcept {
			ran++;
			if (BlocksAll(CurrentMask()))
				blocked++;
		});
		EXPECT_EQ(started, 3u);
		group.Join();
		EXPECT_EQ(group.size(), 0u);
	}
	EXPECT_EQ(ran.load(), 3);
	EXPECT_EQ(blocked.load(), 3);
	sigset_t after = CurrentMask();
	for (int s : kSignals)
		EXPECT_EQ(sigismember(&after, s), sigismember(&before, s)) << "caller's mask changed for signal " << s;
}

TEST(ThreadGroup, DestructorJoins) {
	std::atomic<int> ran{0};
	{
		ThreadGroup group;
		group.Start(2, [&](size_t t) noexcept { ran += static_cast<int>(t) + 1; });
	}
	EXPECT_EQ(ran.load(), 3);
}

TEST(WarmOpenMP, PoolThreadsHaveSignalsBlocked) {
	EXPECT_EQ(WarmOpenMP(0).code(), StatusCode::kInvalidArgument);
	EXPECT_TRUE(WarmOpenMP(1).ok());
	sigset_t before = CurrentMask();
	std::vector<unsigned long long> others_before = OtherThreadMasks();
	ASSERT_TRUE(WarmOpenMP(4).ok());
	sigset_t after = CurrentMask();
	for (int s : kSignals)
		EXPECT_EQ(sigismember(&after, s), sigismember(&before, s)) << "caller's mask changed for signal " << s;
	std::vector<unsigned long long> others = OtherThreadMasks();
	/* libgomp keeps the 3 workers of the region; any thread this process
	   had before (none in this binary) is left out of the count. */
	ASSERT_GE(others.size(), others_before.size() + 3);
	size_t blocked = 0;
	for (unsigned long long m : others)
		blocked += MaskBlocksAll(m);
	EXPECT_GE(blocked, 3u);
	for (unsigned long long m : others_before)
		std::printf("thread present before the warm-up: SigBlk %016llx\n", m);
}

TEST(OmpThreads, SetsTheCountForItsScopeOnly) {
	int before = omp_get_max_threads();
	{
		OmpThreads threads(3);
		EXPECT_EQ(omp_get_max_threads(), 3);
		{
			OmpThreads inner(0);
			EXPECT_EQ(omp_get_max_threads(), 1);
		}
		EXPECT_EQ(omp_get_max_threads(), 3);
	}
	EXPECT_EQ(omp_get_max_threads(), before);
}

// StopAfter says stop once its counter reaches zero.
bool StopAfter(void *arg) noexcept {
	auto *left = static_cast<int *>(arg);
	return --*left <= 0;
}

TEST(ThreadStop, ReachesOnlyTheRegisteringThreadAndStaysFired) {
	EXPECT_FALSE(PollThreadStop());
	int left = 2;
	ThreadStop stop{StopAfter, &left, false};
	{
		ThreadStopScope scope(&stop);
		std::atomic<int> other_saw{-1};
		{
			ThreadGroup group;
			group.Start(1, [&](size_t) noexcept { other_saw = PollThreadStop() ? 1 : 0; });
		}
		EXPECT_EQ(other_saw.load(), 0) << "another thread must not run the caller's callback";
		EXPECT_FALSE(PollThreadStop());
		EXPECT_TRUE(PollThreadStop());
		EXPECT_TRUE(stop.fired);
		/* fired: the callback is not asked again */
		EXPECT_TRUE(PollThreadStop());
		EXPECT_EQ(left, 0);
		ThreadStop never{nullptr, nullptr, false};
		{
			ThreadStopScope inner(&never);
			EXPECT_FALSE(PollThreadStop());
		}
		EXPECT_TRUE(PollThreadStop()) << "the outer registration comes back";
	}
	EXPECT_FALSE(PollThreadStop());
}

}  // namespace
}  // namespace vecdb::knowhere
