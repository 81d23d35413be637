/*
 * shim.h
 *	  What the fuzz harness asks of shim.c.
 */
#ifndef CS_FUZZ_SHIM_H
#define CS_FUZZ_SHIM_H

extern void shim_reset(void);
extern int	shim_last_sqlstate(void);
extern const char *shim_last_message(void);
extern const char *shim_last_location(void);

#endif
