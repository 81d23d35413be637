/*
 * customer_success.c
 *	  The module entry: PG_MODULE_MAGIC and _PG_init(), which defines each
 *	  family's settings (its init function, declared in its header) and then
 *	  reserves the prefix customer_success, so that a mistyped
 *	  customer_success.* setting is refused instead of being kept as a
 *	  placeholder nobody reads.
 */
#include "postgres.h"

#include "fit_state.h"
#include "fmgr.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	fit_state_init();
	/* after every setting, the deprecated aliases included, is defined */
	MarkGUCPrefixReserved("customer_success");
}
