// test_list_locks.cpp checks the build's byte locks (list_locks.hpp): they
// exclude each other under contention from more threads than cores (the
// waiters must yield, not only spin), each element's lock is its own, and a
// resized array starts unlocked.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "knowhere/list_locks.hpp"

namespace vecdb::knowhere::hnsw {
namespace {

TEST(ListLocks, ExcludeUnderContention) {
	ListLocks locks;
	locks.Resize(4);
	/* plain (non-atomic) counters: a lost update shows a broken exclusion */
	long counters[4] = {0, 0, 0, 0};
	constexpr int kThreads = 8;
	constexpr int kRounds = 20000;
	std::vector<std::thread> threads;
	for (int t = 0; t < kThreads; t++)
		threads.emplace_back([&, t] {
			for (int r = 0; r < kRounds; r++) {
				size_t id = static_cast<size_t>((t + r) % 4);
				std::lock_guard<ListLock> guard(locks[id]);
				long v = counters[id];
				if (r % 997 == 0)
					std::this_thread::yield(); /* a holder preempted inside */
				counters[id] = v + 1;
			}
		});
	for (std::thread &th : threads)
		th.join();
	EXPECT_EQ(counters[0] + counters[1] + counters[2] + counters[3], static_cast<long>(kThreads) * kRounds);
	for (long c : counters)
		EXPECT_EQ(c, static_cast<long>(kThreads) * kRounds / 4);
}

TEST(ListLocks, EachElementHasItsOwnLock) {
	ListLocks locks;
	locks.Resize(3);
	ASSERT_EQ(locks.size(), 3u);
	std::lock_guard<ListLock> first(locks[0]);
	/* another element's lock is free while element 0's is held */
	std::thread other([&] {
		std::lock_guard<ListLock> second(locks[1]);
		std::lock_guard<ListLock> third(locks[2]);
	});
	other.join();
	SUCCEED();
}

TEST(ListLocks, ResizedArrayStartsUnlocked) {
	ListLocks locks;
	locks.Resize(2);
	locks[1].lock();
	locks.Resize(5);
	ASSERT_EQ(locks.size(), 5u);
	for (size_t i = 0; i < locks.size(); i++) {
		std::thread t([&] {
			locks[i].lock();
			locks[i].unlock();
		});
		t.join();
	}
	SUCCEED();
}

}  // namespace
}  // namespace vecdb::knowhere::hnsw
