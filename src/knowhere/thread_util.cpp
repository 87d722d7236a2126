// thread_util.cpp implements the signal-blocking helpers behind every thread
// the engine starts, the OpenMP pool warm-up and thread count, and the
// per-thread stop registration.
#include "knowhere/thread_util.hpp"

#include <omp.h>
#include <pthread.h>

#include <algorithm>
#include <string>

namespace vecdb::knowhere {

// SignalBlock saves the calling thread's mask and blocks every signal.
SignalBlock::SignalBlock() noexcept {
	sigset_t all;
	sigfillset(&all);
	ok_ = pthread_sigmask(SIG_SETMASK, &all, &saved_) == 0;
}

// ~SignalBlock restores the saved mask; signals that arrived meanwhile are
// delivered then, to this thread.
SignalBlock::~SignalBlock() {
	if (ok_)
		pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
}

// WarmOpenMP creates libgomp's thread pool with signals blocked.
Status WarmOpenMP(int threads) noexcept {
	if (threads < 1)
		return Status::InvalidArgument("thread count must be at least 1, not " + std::to_string(threads));
	if (threads == 1)
		return Status::Ok();
	SignalBlock block;
	if (!block.ok())
		return Status::Internal("could not block signals before starting OpenMP threads");
	/* The region must do something: GCC drops an empty one entirely. */
	volatile int team = 0;
#pragma omp parallel num_threads(threads)
	{
#pragma omp single
		team = omp_get_num_threads();
	}
	(void) team;
	return Status::Ok();
}

// OmpThreads warms the pool for n threads, then sets the count.
OmpThreads::OmpThreads(int n) noexcept : saved_(omp_get_max_threads()) {
	int threads = std::max(1, n);
	(void) WarmOpenMP(threads);
	omp_set_num_threads(threads);
}

// ~OmpThreads restores the count the scope began with.
OmpThreads::~OmpThreads() {
	omp_set_num_threads(saved_);
}

namespace {

// tls_thread_stop is the ThreadStop registered on this thread, if any.
thread_local ThreadStop *tls_thread_stop = nullptr;

}  // namespace

// ThreadStopScope registers stop on the calling thread.
ThreadStopScope::ThreadStopScope(ThreadStop *stop) noexcept : saved_(tls_thread_stop) {
	tls_thread_stop = stop;
}

// ~ThreadStopScope restores the previous registration.
ThreadStopScope::~ThreadStopScope() {
	tls_thread_stop = saved_;
}

// PollThreadStop polls the calling thread's callback until it fires.
bool PollThreadStop() noexcept {
	ThreadStop *s = tls_thread_stop;
	if (s == nullptr || s->fn == nullptr)
		return false;
	if (!s->fired && s->fn(s->arg))
		s->fired = true;
	return s->fired;
}

}  // namespace vecdb::knowhere
