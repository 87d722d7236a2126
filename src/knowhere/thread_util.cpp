// thread_util.cpp implements the signal-blocking helpers behind every thread
// the engine starts, and the OpenMP pool warm-up.
#include "knowhere/thread_util.hpp"

#include <omp.h>
#include <pthread.h>

#include <string>

namespace vecdb::engine {

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

}  // namespace vecdb::engine
