/* Fibers on ucontext, with the annotations ASan and valgrind need to
 * follow the stack switches. */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#include "fiber.h"
#include "log.h"
#include "xmalloc.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define FIBER_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
void	__sanitizer_start_switch_fiber(void **, const void *, size_t);
void	__sanitizer_finish_switch_fiber(void *, const void **, size_t *);
#endif

struct fiber {
	ucontext_t	 ctx;
	ucontext_t	 caller;
	char		*map;		/* guard page, then the stack */
	size_t		 mapsize;
	char		*stack;
	size_t		 size;
	void		(*fn)(void *);
	void		*arg;
	int		 started;
	int		 done;
	unsigned	 vg_id;
	void		*fake_main;	/* ASan's fake stacks */
	void		*fake_fiber;
	const void	*caller_bottom;
	size_t		 caller_size;
};

static struct fiber	*fiber_current;

static void
fiber_trampoline(void)
{
	struct fiber	*f = fiber_current;

#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(NULL, &f->caller_bottom,
	    &f->caller_size);
#endif
	f->fn(f->arg);
	f->done = 1;
#ifdef FIBER_ASAN
	/* This stack is finished: no fake stack to keep. */
	__sanitizer_start_switch_fiber(NULL, f->caller_bottom, f->caller_size);
#endif
	/* Returning goes to uc_link, the caller's context. */
}

struct fiber *
fiber_new(void (*fn)(void *), void *arg, size_t size)
{
	struct fiber	*f;
	long		 page = sysconf(_SC_PAGESIZE);

	f = xcalloc(1, sizeof *f);
	size = (size + (size_t)page - 1) & ~((size_t)page - 1);
	f->mapsize = size + (size_t)page;
	f->map = mmap(NULL, f->mapsize, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->map == MAP_FAILED)
		fatal("mmap fiber stack");
	/* The lowest page is a guard: overflowing the stack faults. */
	if (mprotect(f->map, (size_t)page, PROT_NONE) == -1)
		fatal("mprotect fiber guard");
	f->stack = f->map + page;
	f->size = size;
	f->fn = fn;
	f->arg = arg;
#ifdef FIBER_VALGRIND
	f->vg_id = VALGRIND_STACK_REGISTER(f->stack, f->stack + f->size);
#endif
	if (getcontext(&f->ctx) == -1)
		fatal("getcontext");
	f->ctx.uc_stack.ss_sp = f->stack;
	f->ctx.uc_stack.ss_size = f->size;
	f->ctx.uc_link = &f->caller;
	makecontext(&f->ctx, fiber_trampoline, 0);
	return f;
}

void
fiber_free(struct fiber *f)
{
	if (f == NULL)
		return;
	if (f->started && !f->done)
		fatalx("fiber_free: fiber still running");
#ifdef FIBER_VALGRIND
	VALGRIND_STACK_DEREGISTER(f->vg_id);
#endif
	munmap(f->map, f->mapsize);
	free(f);
}

int
fiber_resume(struct fiber *f)
{
	struct fiber	*prev = fiber_current;

	if (f->done)
		return 1;
	if (prev != NULL)
		fatalx("fiber_resume: fibers do not nest");
	f->started = 1;
	fiber_current = f;
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(&f->fake_main, f->stack, f->size);
#endif
	if (swapcontext(&f->caller, &f->ctx) == -1)
		fatal("swapcontext");
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(f->fake_main, NULL, NULL);
#endif
	fiber_current = prev;
	return f->done;
}

void
fiber_yield(void)
{
	struct fiber	*f = fiber_current;

	if (f == NULL)
		fatalx("fiber_yield: not in a fiber");
#ifdef FIBER_ASAN
	__sanitizer_start_switch_fiber(&f->fake_fiber, f->caller_bottom,
	    f->caller_size);
#endif
	if (swapcontext(&f->ctx, &f->caller) == -1)
		fatal("swapcontext");
#ifdef FIBER_ASAN
	__sanitizer_finish_switch_fiber(f->fake_fiber, &f->caller_bottom,
	    &f->caller_size);
#endif
}

struct fiber *
fiber_self(void)
{
	return fiber_current;
}
