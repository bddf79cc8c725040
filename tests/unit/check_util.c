/* Tests for the util layer: strbuf, SHA-256, hash64, rng, UTF-8,
 * durations of files, suggestions, log escaping. */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "hash.h"
#include "log.h"
#include "rng.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

START_TEST(test_strbuf)
{
	struct strbuf	 sb;
	char		*s;
	int		 i;

	strbuf_init(&sb);
	for (i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	ck_assert_uint_eq(sb.len, strlen(sb.buf));
	ck_assert(strncmp(sb.buf, "0,1,2,", 6) == 0);
	strbuf_reset(&sb);
	ck_assert_uint_eq(sb.len, 0);
	strbuf_add(&sb, "a\0b", 3);
	ck_assert_uint_eq(sb.len, 3);
	s = strbuf_detach(&sb);
	ck_assert_ptr_null(sb.buf);
	free(s);
	s = strbuf_detach(&sb);
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_sha256)
{
	char	hex[65];
	char	*big;

	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	big = xmalloc(1000000);
	memset(big, 'a', 1000000);
	sha256_hex(big, 1000000, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(big);
}
END_TEST

START_TEST(test_hash64_rng)
{
	struct rng	a, b, c;
	int		i, counts[10] = { 0 };
	double		sum = 0, sq = 0, x;

	ck_assert(hash64_str("abc", 1) == hash64_str("abc", 1));
	ck_assert(hash64_str("abc", 1) != hash64_str("abc", 2));
	ck_assert(hash64_str("abc", 1) != hash64_str("abd", 1));
	rng_seed(&a, 42, 7);
	rng_seed(&b, 42, 7);
	rng_seed(&c, 42, 8);
	for (i = 0; i < 100; i++)
		ck_assert(rng_next(&a) == rng_next(&b));
	ck_assert(rng_next(&a) != rng_next(&c));
	for (i = 0; i < 100000; i++) {
		counts[rng_below(&a, 10)]++;
		x = rng_uniform(&a);
		ck_assert(x >= 0 && x < 1);
		x = rng_normal(&b);
		sum += x;
		sq += x * x;
	}
	for (i = 0; i < 10; i++)
		ck_assert_int_gt(counts[i], 9500);
	ck_assert(sum / 100000 > -0.02 && sum / 100000 < 0.02);
	ck_assert(sq / 100000 > 0.97 && sq / 100000 < 1.03);
}
END_TEST

START_TEST(test_utf8)
{
	size_t	bad;

	ck_assert_int_eq(utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
	    15, &bad), 0);
	ck_assert_int_eq(utf8_valid("ab\xff", 3, &bad), -1);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(utf8_valid("a\xc3", 2, &bad), -1);	/* truncated */
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(utf8_valid("\xc0\xaf", 2, &bad), -1);	/* overlong */
	ck_assert_int_eq(utf8_valid("\xed\xa0\x80", 3, &bad), -1); /* surrogate */
	ck_assert_int_eq(utf8_valid("\xf4\x90\x80\x80", 4, &bad), -1);

	/* Characters, for columns: continuation bytes do not count. */
	ck_assert_uint_eq(utf8_chars("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f"
	    "\x98\x80", 15), 9);
	ck_assert_uint_eq(utf8_chars("h\xc3\xa9", 2), 2);
	ck_assert_uint_eq(utf8_chars("", 0), 0);
}
END_TEST

START_TEST(test_file_read)
{
	char	*dir = check_tmpdir(), *path, *buf = NULL, *cause = NULL;
	size_t	 len;
	FILE	*f;

	path = xasprintf("%s/f.txt", dir);
	ck_assert_int_eq(file_read(path, 100, &buf, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "f.txt"));
	free(cause);
	cause = NULL;
	f = fopen(path, "w");
	fputs("hello world", f);
	fclose(f);
	ck_assert_int_eq(file_read(path, 100, &buf, &len, &cause), 0);
	ck_assert_str_eq(buf, "hello world");
	ck_assert_uint_eq(len, 11);
	free(buf);
	ck_assert_int_eq(file_read(path, 5, &buf, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "larger than"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(file_read(dir, 100, &buf, &len, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "directory"));
	free(cause);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}
END_TEST

/* The whole file as a string (the caller frees). */
static char *
slurp(const char *path)
{
	char	*out = NULL, *cause = NULL;
	size_t	 len;

	ck_assert_msg(file_read(path, 1 << 20, &out, &len, &cause) == 0, "%s",
	    cause);
	return out;
}

/*
 * Atomic writes: a new file and a replaced one hold the text and leave
 * no temporary behind; through a symbolic link the file it names is
 * replaced and the link stays a link; something that is not a regular
 * file is written in place (a directory cannot be: an error, and it is
 * still a directory, where a rename would have put a file).
 */
START_TEST(test_write_atomic)
{
	struct stat	 st;
	char		*dir = check_tmpdir(), *f, *link, *sub, *got;
	char		*cause = NULL, *cmd;

	f = xasprintf("%s/out.txt", dir);
	link = xasprintf("%s/link.txt", dir);
	sub = xasprintf("%s/sub", dir);
	ck_assert_int_eq(file_write_atomic(f, "one\n", &cause), 0);
	ck_assert_int_eq(file_write_atomic(f, "two\n", &cause), 0);
	ck_assert_str_eq(got = slurp(f), "two\n");
	free(got);
	ck_assert_int_eq(symlink(f, link), 0);
	ck_assert_int_eq(file_write_atomic(link, "three\n", &cause), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_str_eq(got = slurp(f), "three\n");
	free(got);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(file_write_atomic(sub, "x", &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "sub"));
	free(cause);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	/* Nothing but the file, the link and the directory. */
	cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 3", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	check_rmtree(dir);
	free(dir);
	free(f);
	free(link);
	free(sub);
}
END_TEST

START_TEST(test_suggest)
{
	static const char *const words[] = { "dataset", "input", "target",
	    "metric", NULL };
	char	*p;

	ck_assert_str_eq(suggest("datset", words), "dataset");
	ck_assert_str_eq(suggest("metrc", words), "metric");
	ck_assert_str_eq(suggest("inptu", words), "input");
	ck_assert_ptr_null(suggest("completely", words));
	ck_assert_uint_eq(edit_distance("kitten", "sitting", 5), 3);
	ck_assert_uint_eq(edit_distance("abc", "abcdefgh", 2), 3);
	p = path_relative_to("examples/x/job.json", "data.jsonl");
	ck_assert_str_eq(p, "examples/x/data.jsonl");
	free(p);
	p = path_relative_to("job.json", "data.jsonl");
	ck_assert_str_eq(p, "data.jsonl");
	free(p);
	p = path_relative_to("a/job.json", "/abs/data.jsonl");
	ck_assert_str_eq(p, "/abs/data.jsonl");
	free(p);
}
END_TEST

START_TEST(test_log_escape)
{
	char	*s;

	s = log_escape("line1\nline2\t\"q\"\x01", 100);
	ck_assert_str_eq(s, "line1\\nline2\\t\\\"q\\\"\\x01");
	free(s);
	s = log_escape("abcdefghij", 4);
	ck_assert_str_eq(s, "abcd...");
	free(s);
}
END_TEST

START_TEST(test_cause)
{
	char	*cause = NULL;

	ck_assert_int_eq(cause_set(&cause, "cannot open '%s'", "x"), -1);
	cause_prefix(&cause, "job '%s': ", "nightly");
	ck_assert_str_eq(cause, "job 'nightly': cannot open 'x'");
	free(cause);
	ck_assert_int_eq(cause_set(NULL, "ignored"), -1);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite	*s = suite_create("util");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_strbuf);
	tcase_add_test(tc, test_sha256);
	tcase_add_test(tc, test_hash64_rng);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_file_read);
	tcase_add_test(tc, test_write_atomic);
	tcase_add_test(tc, test_suggest);
	tcase_add_test(tc, test_log_escape);
	tcase_add_test(tc, test_cause);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(util_suite)
