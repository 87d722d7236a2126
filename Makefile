# Makefile builds vecdb.so with PGXS and links the engine library that CMake builds.

EXTENSION = vecdb vector
EXTVERSION = 0.4.0
# vector, vecdb under pgvector's name, reports the pgvector release whose SQL
# interface this version provides (docs/decisions.md, "The vector name's version")
VECTOR_EXTVERSION = 0.8.1
MODULE_big = vecdb

PG_SOURCES = src/vecdb.cpp src/guc.cpp src/time_travel.cpp $(sort $(wildcard src/types/*.cpp src/am/*.cpp src/planner/*.cpp src/shard/*.cpp))
OBJS = $(PG_SOURCES:.cpp=.o)

# Extension scripts (docs/decisions.md, "Versions and upgrade scripts"): the
# current version's is built from sql/install; the oldest version's and every
# upgrade script are committed and never change; the vector twin of each is
# the vecdb one with the extension name replaced.
SQL_PARTS = $(sort $(wildcard sql/install/*.sql))
SQL_GENERATED = sql/install/50_index_am.sql sql/install/55_scalar_opclasses.sql
SQL_FROZEN = sql/vecdb--0.1.0.sql $(sort $(wildcard sql/vecdb--*--*.sql))
SQL_VECTOR_STEPS = $(sort $(wildcard sql/vector--*--*.sql))
# vecdb 0.3.0 = vector 0.8.0 and 0.4.0 = 0.8.1: from 0.3.0 on, the vector twin of an
# upgrade script carries pgvector-style numbers (VECTOR_STEPS_RENAMED)
VECTOR_STEPS_RENAMED = sql/vector--0.8.0--0.8.1.sql
DATA = $(SQL_FROZEN) $(filter-out $(patsubst sql/vecdb--%,sql/vector--%,$(SQL_FROZEN)) $(VECTOR_STEPS_RENAMED),$(SQL_VECTOR_STEPS))
DATA_built = sql/vecdb--$(EXTVERSION).sql sql/vector--$(VECTOR_EXTVERSION).sql \
	$(filter-out sql/vector--0.3.0--0.4.0.sql,$(patsubst sql/vecdb--%,sql/vector--%,$(SQL_FROZEN))) \
	$(VECTOR_STEPS_RENAMED)

ENGINE_DIR = build/engine
ENGINE_LIB = $(ENGINE_DIR)/src/knowhere/libvecdb_knowhere.a
ENGINE_SOURCES = CMakeLists.txt $(wildcard src/knowhere/*.cpp src/knowhere/*.hpp src/knowhere/CMakeLists.txt)

# libpq: vecdb_sharded_search's own connections to shard servers (src/shard)
PG_CPPFLAGS = -Isrc -I$(libpq_srcdir)
PG_CXXFLAGS = -std=c++17 -Wno-missing-field-initializers -Wno-register
# FAISS (static, PIC) backs the IVF kinds; it needs OpenBLAS and OpenMP. We
# link Debian's single-threaded OpenBLAS build (libopenblas-serial-dev): the
# default pthread build starts a worker thread when the library loads, with
# every signal unblocked, so PostgreSQL's signals could run their handlers on
# it. The engine's threads are OpenMP's and ours, created with signals blocked.
OPENBLAS_SERIAL ?= /usr/lib/$(shell $(CC) -print-multiarch)/openblas-serial
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = $(ENGINE_LIB) -l:libfaiss.a -L$(OPENBLAS_SERIAL) -l:libopenblas.so.0 -Wl,-rpath,$(OPENBLAS_SERIAL) \
	-lgomp -lstdc++ -lm

# make VECDB_CUDA=1 also links src/gpu (nvcc, CUDA runtime and cuBLAS from
# CUDA_HOME): the GPU worker then serves on a GPU when one is usable. Without
# it nothing of CUDA is built or linked (docs/gpu.md, "The GPU worker").
CUDA_HOME ?= /usr/local/cuda
ifeq ($(VECDB_CUDA),1)
ENGINE_DIR = build/engine-cuda
ENGINE_GPU_LIB = $(ENGINE_DIR)/src/gpu/libvecdb_gpu.a
PG_CPPFLAGS += -DVECDB_WITH_CUDA
SHLIB_LINK := $(ENGINE_GPU_LIB) $(SHLIB_LINK) -L$(CUDA_HOME)/lib64 -lcublas -lcublasLt -lcudart_static \
	-ldl -lrt -lpthread -Wl,-rpath,$(CUDA_HOME)/lib64
endif

EXTRA_CLEAN = build

# Tests against a running server (PGHOST, PGPORT, PGUSER as for psql), after
# `make install`: `make installcheck` runs the SQL tests (sql/ + expected/, in
# test/schedule's order, one at a time) and then, as PGXS does when TAP_TESTS
# is set, the TAP tests; `make prove_installcheck` runs only the TAP tests,
# which start their own servers (test/t, PostgreSQL::Test::Cluster).
REGRESS = $(shell sed -n 's/^test://p' test/schedule)
REGRESS_OPTS = --load-extension=vecdb
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

# No JIT bitcode: it would need clang at install time and buys nothing for us.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Disable the C-only warning flags PostgreSQL passes; g++ rejects or misapplies them.
override CXXFLAGS := $(filter-out -Wmissing-prototypes -Wdeclaration-after-statement,$(CXXFLAGS))

# The operator-class matrix comes from scripts/gen_sql.sh's tables.
$(SQL_GENERATED) &: scripts/gen_sql.sh
	bash scripts/gen_sql.sh

sql/vecdb--$(EXTVERSION).sql: $(SQL_PARTS) $(SQL_GENERATED)
	cat $(SQL_PARTS) > $@

sql/vector--%.sql: sql/vecdb--%.sql
	sed 's/EXTENSION vecdb/EXTENSION vector/' $< > $@

sql/vector--$(VECTOR_EXTVERSION).sql: sql/vecdb--$(EXTVERSION).sql
	sed 's/EXTENSION vecdb/EXTENSION vector/' $< > $@

sql/vector--0.8.0--0.8.1.sql: sql/vecdb--0.3.0--0.4.0.sql
	sed "s/EXTENSION vecdb/EXTENSION vector/; s/UPDATE TO '0.4.0'/UPDATE TO '0.8.1'/" $< > $@

$(OBJS): $(wildcard src/*.h src/types/*.h src/am/*.h src/am/*.hpp src/knowhere/*.hpp)

ifeq ($(VECDB_CUDA),1)
$(ENGINE_LIB): $(ENGINE_SOURCES) $(wildcard src/gpu/*)
	cmake -S . -B $(ENGINE_DIR) -DCMAKE_BUILD_TYPE=Release -DVECDB_BUILD_TESTS=OFF -DVECDB_BUILD_BENCH=OFF \
		-DVECDB_WITH_CUDA=ON > /dev/null
	cmake --build $(ENGINE_DIR) --target vecdb_knowhere vecdb_gpu
else
$(ENGINE_LIB): $(ENGINE_SOURCES)
	cmake -S . -B $(ENGINE_DIR) -DCMAKE_BUILD_TYPE=Release -DVECDB_BUILD_TESTS=OFF -DVECDB_BUILD_BENCH=OFF > /dev/null
	cmake --build $(ENGINE_DIR) --target vecdb_knowhere
endif

$(shlib): $(ENGINE_LIB)

# PGXS 15 runs its TAP tests only inside installcheck; this target runs them alone.
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)
