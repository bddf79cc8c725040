/*
 * Fibers: a search strategy is written as plain sequential code ("propose,
 * evaluate, select") yet runs inside the daemon's single event loop.  A
 * strategy step runs on its own stack; when it needs model answers it
 * submits requests and yields, the loop moves every engine along and
 * answers control requests, and resumes the fiber once its answers are
 * in.  Nothing blocks and there are no threads to race.
 */
#ifndef FIBER_H
#define FIBER_H

#include <stddef.h>

struct fiber;

/* A fiber that will run fn(arg) on a stack of the given size. */
struct fiber	*fiber_new(void (*fn)(void *), void *arg, size_t stack);
/* Frees a fiber that has finished or never started (NULL is fine). */
void		 fiber_free(struct fiber *);
/* Runs the fiber until it yields or returns; returns 1 once it has
 * returned. */
int		 fiber_resume(struct fiber *);
/* From inside a fiber: goes back to whoever resumed it. */
void		 fiber_yield(void);
/* The running fiber, or NULL outside any. */
struct fiber	*fiber_self(void);

#endif
