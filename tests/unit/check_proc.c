/* Tests for child processes driven by poll: input and output, exit
 * statuses, signals, timeouts, output limits, stderr tails, abandon. */
#include <poll.h>
#include <string.h>

#include "check_common.h"
#include "proc.h"
#include "util.h"
#include "xmalloc.h"

struct outcome {
	int	 done;
	int	 exited;
	int	 status;
	int	 sig;
	int	 timed_out;
	int	 too_big;
	char	*out;
	char	*err;
	char	*error;
};

static void
record(void *arg, const struct proc_result *r)
{
	struct outcome	*o = arg;

	o->done = 1;
	o->exited = r->exited;
	o->status = r->status;
	o->sig = r->signal;
	o->timed_out = r->timed_out;
	o->too_big = r->too_big;
	o->out = xstrndup(r->out, r->len);
	o->err = xstrdup(r->err);
	o->error = r->error != NULL ? xstrdup(r->error) : NULL;
}

static void
release(struct outcome *o)
{
	free(o->out);
	free(o->err);
	free(o->error);
	memset(o, 0, sizeof *o);
}

/* Runs the set until every child has reported (at most 20 s). */
static void
drive(struct procset *ps)
{
	int	fds[64], ms;
	short	events[64];
	int	n, rounds = 0;

	while (procset_running(ps) > 0 && rounds++ < 20000) {
		ms = 1000;
		n = procset_fds(ps, fds, events, 64, &ms);
		poll_fds(fds, events, n, ms);
		procset_perform(ps);
	}
	ck_assert_uint_eq(procset_running(ps), 0);
}

static void
run_sh(struct procset *ps, const char *script, const char *input,
    double timeout, size_t max, struct outcome *o)
{
	char	 sh[] = "/bin/sh", c[] = "-c", *s = xstrdup(script);
	char	*argv[] = { sh, c, s, NULL };

	memset(o, 0, sizeof *o);
	procset_spawn(ps, argv, input, strlen(input), timeout, max, record, o);
	free(s);
	drive(ps);
	ck_assert_int_eq(o->done, 1);
}

START_TEST(test_io_and_status)
{
	struct procset	*ps = procset_new();
	struct outcome	 o;
	char		*big;

	run_sh(ps, "tr a-z A-Z", "hello", 10, 1 << 20, &o);
	ck_assert_int_eq(o.exited, 1);
	ck_assert_int_eq(o.status, 0);
	ck_assert_str_eq(o.out, "HELLO");
	release(&o);

	run_sh(ps, "echo oops >&2; exit 3", "", 10, 1 << 20, &o);
	ck_assert_int_eq(o.status, 3);
	ck_assert_str_eq(o.err, "oops\n");
	release(&o);

	run_sh(ps, "kill -TERM $$", "", 10, 1 << 20, &o);
	ck_assert_int_eq(o.exited, 0);
	ck_assert_int_eq(o.sig, 15);
	release(&o);

	/* A child that never reads a large input does not hang us. */
	big = xmalloc(1 << 20);
	memset(big, 'x', 1 << 20);
	big[(1 << 20) - 1] = '\0';
	run_sh(ps, "exit 0", big, 10, 1 << 20, &o);
	ck_assert_int_eq(o.status, 0);
	release(&o);
	/* A large input is passed on whole. */
	run_sh(ps, "wc -c", big, 10, 1 << 20, &o);
	ck_assert_int_eq(atoi(o.out), (1 << 20) - 1);
	release(&o);
	free(big);
	procset_free(ps);
}
END_TEST

START_TEST(test_limits)
{
	struct procset	*ps = procset_new();
	struct outcome	 o;
	double		 t0 = time_mono();

	/* The deadline kills the whole process group. */
	run_sh(ps, "sleep 30 & sleep 30", "", 0.3, 1 << 20, &o);
	ck_assert_int_eq(o.timed_out, 1);
	ck_assert(time_mono() - t0 < 5);
	release(&o);

	/* Output over the limit stops the child. */
	run_sh(ps, "yes", "", 10, 4096, &o);
	ck_assert_int_eq(o.too_big, 1);
	ck_assert_int_le((int)strlen(o.out), 4096);
	release(&o);

	/* Only the end of a long stderr is kept. */
	run_sh(ps, "i=0; while [ $i -lt 2000 ]; do echo line$i >&2; "
	    "i=$((i+1)); done; exit 1", "", 10, 1 << 20, &o);
	ck_assert_ptr_nonnull(strstr(o.err, "line1999"));
	ck_assert_ptr_null(strstr(o.err, "line1\n"));
	release(&o);
	procset_free(ps);
}
END_TEST

START_TEST(test_spawn_failure_and_abandon)
{
	struct procset	*ps = procset_new();
	struct outcome	 o, q;
	char		 prog[] = "/no/such/program", sleep[] = "/bin/sleep";
	char		 secs[] = "30";
	char		*argv[] = { prog, NULL };
	char		*sleeper[] = { sleep, secs, NULL };

	memset(&o, 0, sizeof o);
	procset_spawn(ps, argv, "", 0, 10, 1024, record, &o);
	drive(ps);
	ck_assert_int_eq(o.done, 1);
	/*
	 * posix_spawnp reports a missing program as an error, or (where it
	 * is done with fork, as under valgrind) as a child exiting 127.
	 */
	if (o.error != NULL)
		ck_assert_ptr_nonnull(strstr(o.error, "/no/such/program"));
	else
		ck_assert(o.exited && o.status == 127);
	release(&o);

	memset(&q, 0, sizeof q);
	procset_spawn(ps, sleeper, "", 0, 60, 1024, record, &q);
	ck_assert_uint_eq(procset_running(ps), 1);
	procset_abandon(ps, &q);
	ck_assert_uint_eq(procset_running(ps), 0);
	ck_assert_int_eq(q.done, 0);
	procset_free(ps);
}
END_TEST

static Suite *
proc_suite(void)
{
	Suite	*s = suite_create("proc");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_io_and_status);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_spawn_failure_and_abandon);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(proc_suite)
