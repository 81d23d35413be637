# customer_success: PGXS build.  `make test`, `make demo` and `make bench`
# install what they need (Debian packages), build, install the extension and
# run against a throwaway cluster: see test/run.

EXTENSION   = customer_success
EXTVERSION  = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
MODULE_big  = $(EXTENSION)
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from src/common.sql followed by one piece
# per metric family (src/<family>.sql), each self-contained.
SQL_PARTS   = src/common.sql $(filter-out src/common.sql,$(sort $(wildcard src/*.sql)))
INSTALL_SQL = $(EXTENSION)--$(EXTVERSION).sql
DATA        = $(INSTALL_SQL)

# pg_regress tests in sql/ and expected/: setup first, one file per family,
# install last (it reinstalls the extension in another schema)
FAMILY_TESTS = $(filter-out setup install,$(basename $(notdir $(sort $(wildcard sql/*.sql)))))
REGRESS     = setup $(FAMILY_TESTS) install

PG_CFLAGS   = -Wall -Wextra -Werror
EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG  ?= pg_config
PGXS       := $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))

ifneq ($(PGXS),)
include $(PGXS)

all: $(INSTALL_SQL)
endif

$(INSTALL_SQL): $(SQL_PARTS) Makefile
	cat $(SQL_PARTS) > $@

.PHONY: test demo bench fuzz stress valgrind
test demo bench fuzz stress valgrind:
	PG_CONFIG=$(PG_CONFIG) bash test/run $@
