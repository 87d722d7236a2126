// list_locks.hpp holds ListLocks: one byte-sized lock per graph element,
// guarding that element's link lists while build threads link a batch.
//
// hnswlib gives every element a std::mutex (40 bytes): at 200,000 elements
// the array is 8 MB, and the insert search takes the lock of every element it
// expands, so most of those takes missed the cache. A byte per element keeps
// the array in the core's L2 (docs/engine.md, "Build locks"). Locks are held
// for a list copy or one list rewrite; a waiter spins briefly, then yields
// its core (more build threads than cores, or a holder that was preempted).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

namespace vecdb::knowhere::hnsw {

// ListLock is one element's lock, usable with std::lock_guard.
class ListLock {
public:
	void lock() noexcept {
		for (int spins = 0; flag_.exchange(1, std::memory_order_acquire) != 0;) {
			while (flag_.load(std::memory_order_relaxed) != 0) {
				if (++spins < kSpinsBeforeYield)
					Pause();
				else
					std::this_thread::yield();
			}
		}
	}
	void unlock() noexcept { flag_.store(0, std::memory_order_release); }

private:
	static void Pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#elif defined(__aarch64__)
		__asm__ __volatile__("yield");
#endif
	}
	// kSpinsBeforeYield: about a microsecond of pause instructions.
	static constexpr int kSpinsBeforeYield = 64;
	std::atomic<uint8_t> flag_{0};
};

static_assert(sizeof(ListLock) == 1, "a list lock is one byte");

// ListLocks is the lock array of a graph's capacity; Resize is only for a
// moment no thread holds or waits on a lock (between batches).
class ListLocks {
public:
	void Resize(size_t n) {
		locks_.reset(new ListLock[n]);
		size_ = n;
	}
	ListLock &operator[](size_t id) noexcept { return locks_[id]; }
	size_t size() const noexcept { return size_; }

private:
	std::unique_ptr<ListLock[]> locks_;
	size_t size_ = 0;
};

}  // namespace vecdb::knowhere::hnsw
