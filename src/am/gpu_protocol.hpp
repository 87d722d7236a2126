// gpu_protocol.hpp is the shared-memory protocol between backends and the
// GPU worker (gpu_queue.cpp: the queue and the backends' side;
// gpu_worker.cpp: the worker). docs/gpu.md describes it.
#pragma once

#include "am/am.hpp"

extern "C" {
#include "port/atomics.h"
#include "storage/spin.h"
}

// kGpuRingSize bounds the requests queued and not yet taken.
static const int kGpuRingSize = 1024;

// GpuRequestState is a request's life stage; the owner (a backend) and the
// worker move it by compare-and-swap, and whoever sees the other side gone
// frees the request's bytes.
typedef enum GpuRequestState
{
	GPU_REQ_QUEUED = 1,			/* in the ring */
	GPU_REQ_TAKEN,				/* the worker is serving it */
	GPU_REQ_DONE,				/* results written: the owner frees it */
	GPU_REQ_FAILED,				/* message says why: the owner frees it */
	GPU_REQ_DECLINED,			/* the worker will not serve it (message): the owner frees it */
	GPU_REQ_ABANDONED			/* the owner left (cancel, error): the worker frees it */
} GpuRequestState;

// GpuWorkerState is the worker's state as backends see it.
typedef enum GpuWorkerState
{
	GPU_WORKER_ABSENT = 0,		/* not started, or exited and not yet back */
	GPU_WORKER_READY,			/* serving */
	GPU_WORKER_NO_DEVICE		/* exited for good: no device (reason) */
} GpuWorkerState;

// GpuRequest is one search request in the shared area's scratch memory:
// nq queries (engine rows) against one sealed segment's shared copy, k
// results each, under an optional bitset (set bit = skip). The arrays follow
// the header at the offsets given.
typedef struct GpuRequest
{
	pg_atomic_uint32 state;		/* GpuRequestState */
	int			owner_procno;	/* the backend's PGPROC number: its latch is set when done */
	uint64		generation;		/* the worker generation it was queued to */
	VecdbSharedPin copy;		/* the segment's shared copy, pinned by the owner */
	int32		nq;
	int32		row_bytes;		/* bytes of one query (an engine row) */
	int32		k;
	int32		batch_queries;	/* queries in the engine call that served it */
	int32		nprobe;			/* IVF_FLAT: lists probed (exact kinds: 1) */
	double		brute_force_ratio;	/* IVF_FLAT: the scan's setting, < 0 the default (exact kinds: 1) */
	uint64		nbits;			/* 0: no bitset */
	Size		queries_off;
	Size		bits_off;
	Size		results_off;	/* nq * k VecdbNeighbor */
	Size		counts_off;		/* nq int */
	char		message[200];
} GpuRequest;

// GpuQueue is the fixed part in the main shared memory segment.
typedef struct GpuQueue
{
	slock_t		mutex;			/* guards everything below */
	int			state;			/* GpuWorkerState */
	int			worker_pid;
	int			worker_procno;
	uint64		generation;		/* bumped at every worker start */
	char		device[128];	/* what serves, or why nothing does */
	int			head;			/* ring: oldest queued */
	int			count;
	dsa_pointer ring[kGpuRingSize];
	uint64		requests;
	uint64		queries;
	uint64		batches;		/* engine calls */
	uint64		max_batch;		/* most queries in one engine call */
	uint64		failed;
	uint64		declined;
	uint64		abandoned;
	uint64		resident;		/* segments the worker holds */
	uint64		resident_bytes;
} GpuQueue;

extern GpuQueue *vecdb_gpu_queue;

// GpuRequestAt maps a request's scratch bytes in this process.
static inline GpuRequest *
GpuRequestAt(dsa_pointer dp)
{
	return (GpuRequest *) VecdbSharedScratchAddress(dp);
}

// GpuWake sets the latch of the process with PGPROC number procno.
void		GpuWake(int procno);
