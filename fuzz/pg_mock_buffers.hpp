// pg_mock_buffers.hpp declares the in-memory index relation of pg_mock_buffers.cpp.
#pragma once

#include "pg_mock.hpp"

extern "C" {
#include "storage/block.h"
#include "utils/relcache.h"
}

// MockIndex makes the relation that ReadBuffer and friends serve: nblocks
// pages of BLCKSZ bytes at pages (caller-owned), no pins held.
Relation MockIndex(char *pages, BlockNumber nblocks);

// MockPins returns the buffer pins held now.
int MockPins();
