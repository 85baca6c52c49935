# PGXS build of the pgmig extension: make, make install, make installcheck.
# The client is built by CMake (CMakeLists.txt); scripts/test-all runs everything.

EXTENSION = pgmig
MODULE_big = pgmig
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" extension/pgmig.control)

# common/: the code compiled into both the extension and the client (no PostgreSQL header in it).
CXX_SRCS = $(wildcard extension/*.cpp extension/pg/*.cpp common/*.cpp)
OBJS = $(CXX_SRCS:.cpp=.o)

# The install script of this release and of each earlier one (ALTER EXTENSION UPDATE starts from the
# installed release; pg_dump output names none); the update scripts are built from extension/update/
# (their functions are copied from the install script, see extension/update/statements.awk).
# This release's install script is made from its sources by feature, extension/sql/*.sql, in name order
# (as pgvector's DATA_built); those of earlier releases are kept as they shipped.
INSTALL_built = extension/pgmig--$(EXTVERSION).sql
INSTALL_SOURCES = $(sort $(wildcard extension/sql/*.sql))
UPDATES_built = $(patsubst extension/update/%.sql,extension/pgmig--%.sql,$(wildcard extension/update/*--*.sql))
DATA = $(filter-out $(UPDATES_built) $(INSTALL_built),$(wildcard extension/pgmig--*.sql))
DATA_built = $(INSTALL_built) $(UPDATES_built)
# PGXS looks for the control file in the top folder; point it at extension/.
EXTRA_CLEAN = pgmig.control $(OBJS:.o=.d)

# The regression tests: test/sql/<feature>.sql against test/expected/<feature>.out (results in results/).
TESTS = $(sort $(wildcard test/sql/*.sql))
REGRESS = $(patsubst test/sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=test --outputdir=. --load-extension=plpgsql

PG_CONFIG ?= pg_config
# -include libintl.h: a PostgreSQL configured without NLS (the assertion-enabled build of
# scripts/build-pg) defines gettext() and friends as macros in c.h, and a libstdc++ header that
# includes <libintl.h> after postgres.h then fails to compile; declared first, the macros win.
# -MMD -MP: PGXS tracks no header dependencies, so without them an edited header leaves stale
# objects built against its old layout.
PG_CXXFLAGS = -DPGMIG_EXTVERSION='"$(EXTVERSION)"' -MMD -MP -std=c++20 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wno-register -Iextension -I. -fno-omit-frame-pointer -include libintl.h
# Warnings never fail a user's build; the project's CI (scripts/test-all) builds with
# `make PGMIG_WERROR=1`, which makes them errors.
ifeq ($(PGMIG_WERROR),1)
PG_CXXFLAGS += -Werror
endif
# PGXS links shared libraries with gcc, which does not pull in the C++ runtime.
SHLIB_LINK = -lstdc++ -lcrypto -lfmt

# Bitcode for JIT inlining is turned off on purpose: PGXS compiles .bc files with clang and
# BITCODE_CXXFLAGS, which do not carry PG_CXXFLAGS (-std=c++20), clang is not otherwise a
# dependency, and inlining an extension's C++ into JIT-compiled expressions buys nothing here.
# `override` because Makefile.global, included below, sets with_llvm = yes.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

-include $(OBJS:.o=.d)

# The release is compiled into the library (PGMIG_EXTVERSION): rebuild when the control file changes.
extension/sql_version.o: extension/pgmig.control

pgmig.control: extension/pgmig.control
	cp $< $@

$(INSTALL_built): $(INSTALL_SOURCES)
	cat $^ > $@.tmp && mv $@.tmp $@

extension/pgmig--%.sql: extension/update/%.sql extension/update/statements.awk extension/pgmig--$(EXTVERSION).sql
	awk -v install=extension/pgmig--$(EXTVERSION).sql -f extension/update/statements.awk $< > $@.tmp && mv $@.tmp $@

all: pgmig.control
