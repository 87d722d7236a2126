// thread_util.hpp is the engine's one way to start threads: every thread it
// creates starts with all signals blocked, so that only the calling thread (in
// PostgreSQL, the backend's own) ever runs a signal handler. It also holds the
// per-call OpenMP thread count and the per-thread stop registration that a
// library's own interrupt hook (FAISS' InterruptCallback) polls.
//
// A new thread inherits its creator's signal mask, so ThreadGroup blocks every
// signal on the calling thread around the creation and restores the old mask
// afterwards (pg_duckdb does the same). OpenMP threads are created by libgomp
// the first time a parallel region needs them and are kept in a pool: call
// WarmOpenMP before FAISS first runs with that many threads, so the pool is
// created with signals blocked too.
#pragma once

#include <signal.h>

#include <cstddef>
#include <thread>
#include <utility>
#include <vector>

#include "knowhere/status.hpp"

namespace vecdb::knowhere {

// SignalBlock blocks every signal on the calling thread for its lifetime and
// restores the previous mask when it ends.
class SignalBlock {
public:
	SignalBlock() noexcept;
	~SignalBlock();
	SignalBlock(const SignalBlock &) = delete;
	SignalBlock &operator=(const SignalBlock &) = delete;
	// ok reports whether the mask was changed (and will be restored).
	bool ok() const noexcept { return ok_; }

private:
	sigset_t saved_;
	bool ok_ = false;
};

// ThreadGroup starts worker threads with every signal blocked and joins them
// all before it is destroyed. Threads live only inside the engine call that
// owns the group.
class ThreadGroup {
public:
	ThreadGroup() noexcept = default;
	~ThreadGroup() { Join(); }
	ThreadGroup(const ThreadGroup &) = delete;
	ThreadGroup &operator=(const ThreadGroup &) = delete;

	// Start launches n threads, thread t running fn(t), and returns how many
	// started: fewer when the system refuses more (the caller does their share).
	template <typename Fn>
	size_t Start(size_t n, Fn fn) noexcept {
		SignalBlock block;
		try {
			threads_.reserve(n);
			for (size_t t = 0; t < n; t++)
				threads_.emplace_back(fn, t);
		} catch (...) {
			/* out of memory or threads: run with the ones that started */
		}
		return threads_.size();
	}

	// Join waits for every started thread.
	void Join() noexcept {
		for (std::thread &t : threads_)
			if (t.joinable())
				t.join();
		threads_.clear();
	}

	size_t size() const noexcept { return threads_.size(); }

private:
	std::vector<std::thread> threads_;
};

// WarmOpenMP runs a trivial OpenMP parallel region of `threads` threads with
// every signal blocked, so that libgomp's pool for the calling thread holds at
// least that many threads, all with signals blocked, before FAISS uses it.
// One thread needs no pool: WarmOpenMP(1) does nothing. InvalidArgument below 1.
Status WarmOpenMP(int threads) noexcept;

// OmpThreads sets OpenMP's thread count for one scope (after creating the
// pool with signals blocked, WarmOpenMP) and restores the old count after.
// n below 1 means 1.
class OmpThreads {
public:
	explicit OmpThreads(int n) noexcept;
	~OmpThreads();
	OmpThreads(const OmpThreads &) = delete;
	OmpThreads &operator=(const OmpThreads &) = delete;

private:
	int saved_;
};

// ThreadStop is a stop callback registered for one call on one thread, and
// whether it has fired.
struct ThreadStop {
	bool (*fn)(void *arg) noexcept = nullptr;
	void *arg = nullptr;
	bool fired = false;
};

// ThreadStopScope registers a ThreadStop for the calling thread for its
// lifetime (restoring the one registered before), so that a hook a library
// calls on that thread can reach the caller's stop callback.
class ThreadStopScope {
public:
	explicit ThreadStopScope(ThreadStop *stop) noexcept;
	~ThreadStopScope();
	ThreadStopScope(const ThreadStopScope &) = delete;
	ThreadStopScope &operator=(const ThreadStopScope &) = delete;

private:
	ThreadStop *saved_;
};

// PollThreadStop asks the calling thread's registered ThreadStop: true once
// its callback said stop (it is not asked again); false when none is
// registered, so other threads (OpenMP workers) always go on.
bool PollThreadStop() noexcept;

}  // namespace vecdb::knowhere
