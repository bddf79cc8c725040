/* Tests for dataset loading (JSONL, CSV), hashes and splits. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../src/dataset.h"
#include "../../src/util.h"
#include "check_common.h"
#include "hash.h"

#define MAX_FILES	32

static char	*tmpdir;
static char	*files[MAX_FILES];
static size_t	 nfiles;

static void
setup(void)
{
	tmpdir = check_tmpdir();
	nfiles = 0;
}

static void
teardown(void)
{
	while (nfiles > 0) {
		nfiles--;
		unlink(files[nfiles]);
		free(files[nfiles]);
	}
	rmdir(tmpdir);
	free(tmpdir);
}

/* Writes len bytes into a file named name in the test's directory. */
static const char *
put(const char *name, const char *data, size_t len)
{
	char	*path;
	FILE	*f;

	ck_assert_uint_lt(nfiles, MAX_FILES);
	if (asprintf(&path, "%s/%s", tmpdir, name) == -1)
		abort();
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	files[nfiles++] = path;
	return path;
}

static const char *
puts_file(const char *name, const char *text)
{
	return put(name, text, strlen(text));
}

static struct dataset *
load_ok(const char *path, const char *format)
{
	struct dataset	*ds;
	char		*cause = NULL;

	ds = dataset_load(path, format, &cause);
	ck_assert_msg(ds != NULL, "load failed: %s", cause);
	ck_assert_ptr_null(cause);
	return ds;
}

/*
 * Loads a file that must fail and checks that the message starts with
 * the quoted path and then reads want exactly.
 */
static void
load_fails(const char *path, const char *format, const char *want)
{
	struct dataset	*ds;
	char		*cause = NULL, *full;

	ds = dataset_load(path, format, &cause);
	ck_assert_ptr_null(ds);
	ck_assert_ptr_nonnull(cause);
	/* FILE:LINE[:COL]: for a place in the file, 'FILE' otherwise. */
	if (asprintf(&full, want[0] == ':' &&
	    isdigit((unsigned char)want[1]) ? "%s%s" : "'%s'%s", path,
	    want) == -1)
		abort();
	ck_assert_str_eq(cause, full);
	free(full);
	free(cause);
}

static const char *
str_field(const struct example *ex, const char *name)
{
	const cJSON	*v = example_field(ex, name);

	ck_assert_msg(v != NULL && cJSON_IsString(v), "field %s", name);
	return v->valuestring;
}

START_TEST(test_jsonl_good)
{
	static const char text[] =
	    "{\"text\": \"hello\", \"label\": 1}\r\n"
	    "\r\n"
	    "   \t\n"
	    "{\"text\": \"x\", \"tags\": [1, \"a\"], \"meta\": {\"k\": null}}\n"
	    "\n"
	    "  {\"label\": 2.5, \"ok\": true}  \r\n";
	struct dataset	*ds;
	const cJSON	*v;
	char		 hex[65], *canon;

	ds = load_ok(puts_file("data.jsonl", text), NULL);
	ck_assert_uint_eq(ds->n, 3);
	ck_assert_uint_eq(ds->ex[0].line, 1);
	ck_assert_uint_eq(ds->ex[1].line, 4);
	ck_assert_uint_eq(ds->ex[2].line, 6);
	ck_assert_uint_eq(ds->ex[2].idx, 2);
	ck_assert_str_eq(str_field(&ds->ex[0], "text"), "hello");
	v = example_field(&ds->ex[0], "label");
	ck_assert(cJSON_IsNumber(v) && v->valuedouble == 1);
	v = example_field(&ds->ex[1], "tags");
	ck_assert(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2);
	ck_assert(cJSON_IsObject(example_field(&ds->ex[1], "meta")));
	ck_assert(cJSON_IsTrue(example_field(&ds->ex[2], "ok")));
	ck_assert_ptr_null(example_field(&ds->ex[2], "text"));
	ck_assert_ptr_null(example_field(NULL, "text"));

	/* Fields: the union in first-seen order, NULL-terminated. */
	ck_assert_uint_eq(ds->nfields, 5);
	ck_assert_str_eq(ds->fields[0], "text");
	ck_assert_str_eq(ds->fields[1], "label");
	ck_assert_str_eq(ds->fields[2], "tags");
	ck_assert_str_eq(ds->fields[3], "meta");
	ck_assert_str_eq(ds->fields[4], "ok");
	ck_assert_ptr_null(ds->fields[5]);
	ck_assert(dataset_has_field(ds, "meta"));
	ck_assert(!dataset_has_field(ds, "Meta"));

	/* Hashes: the file's bytes and each example's compact JSON. */
	sha256_hex(text, sizeof text - 1, hex);
	ck_assert_str_eq(ds->hash, hex);
	canon = cJSON_PrintUnformatted(ds->ex[1].fields);
	sha256_hex(canon, strlen(canon), hex);
	ck_assert_str_eq(ds->ex[1].hash, hex);
	ck_assert_str_eq(canon,
	    "{\"text\":\"x\",\"tags\":[1,\"a\"],\"meta\":{\"k\":null}}");
	cJSON_free(canon);
	ck_assert_str_ne(ds->ex[0].hash, ds->ex[1].hash);
	ck_assert_ptr_nonnull(ds->path);
	dataset_free(ds);
	dataset_free(NULL);
}
END_TEST

START_TEST(test_jsonl_no_final_newline)
{
	struct dataset	*ds;

	ds = load_ok(puts_file("a.ndjson", "{\"a\":1}\n{\"a\":2}"), NULL);
	ck_assert_uint_eq(ds->n, 2);
	ck_assert_uint_eq(ds->ex[1].line, 2);
	dataset_free(ds);

	/* Extensions are matched in any case. */
	ds = load_ok(puts_file("b.JSONL", "{}\n"), NULL);
	ck_assert_uint_eq(ds->n, 1);
	ck_assert_uint_eq(ds->nfields, 0);
	ck_assert_ptr_null(ds->fields[0]);
	dataset_free(ds);

	ds = load_ok(puts_file("c.json", "{\"q\":\"?\"}\n"), NULL);
	ck_assert_uint_eq(ds->n, 1);
	dataset_free(ds);
}
END_TEST

START_TEST(test_jsonl_bad_json)
{
	const char	*p;

	p = puts_file("d.jsonl", "{\"a\": 1}\n\n{\"a\": tru}\n");
	load_fails(p, NULL, ":3:7: invalid JSON");

	/* Text after the object is an error at its column. */
	p = puts_file("e.jsonl", "{\"a\":1} x\n");
	load_fails(p, NULL, ":1:9: invalid JSON");

	/* An object does not continue on the next line. */
	p = puts_file("f.jsonl", "{\"a\":\n1}\n");
	load_fails(p, NULL, ":1:6: invalid JSON");
	p = puts_file("f2.jsonl", "{\"a\":1}\r\n{\"a\":\r\n1}\r\n");
	load_fails(p, NULL, ":2:6: invalid JSON");
	/* cJSON points just inside an unterminated string. */
	p = puts_file("f3.jsonl", "{\"a\":\"open");
	load_fails(p, NULL, ":1:7: invalid JSON");
	p = puts_file("f4.jsonl", "{\"a\":[1,2}\n");
	load_fails(p, NULL, ":1:10: invalid JSON");

	/* Columns count characters, not bytes. */
	p = puts_file("g.jsonl", "{\"\xc3\xa9\xc3\xa9\": x}\n");
	load_fails(p, NULL, ":1:8: invalid JSON");
}
END_TEST

START_TEST(test_jsonl_not_object)
{
	const char	*p;

	p = puts_file("a.jsonl", "{\"a\":1}\n[1, 2]\n");
	load_fails(p, NULL, ":2: expected a JSON object, got an array");
	p = puts_file("b.jsonl", "\"text\"\n");
	load_fails(p, NULL, ":1: expected a JSON object, got a string");
	p = puts_file("c.jsonl", "\n\n42\n");
	load_fails(p, NULL, ":3: expected a JSON object, got a number");
	p = puts_file("d.jsonl", "null\n");
	load_fails(p, NULL, ":1: expected a JSON object, got null");
	p = puts_file("e.jsonl", "true\n");
	load_fails(p, NULL, ":1: expected a JSON object, got a boolean");
}
END_TEST

START_TEST(test_jsonl_duplicate_key)
{
	const char	*p;

	p = puts_file("a.jsonl",
	    "{\"a\":1,\"b\":2}\n{\"b\":1,\"a\":2,\"b\":3}\n");
	load_fails(p, NULL, ":2: duplicate key 'b'");
}
END_TEST

START_TEST(test_bad_utf8)
{
	const char	*p;

	p = puts_file("a.jsonl", "{\"a\":\"x\"}\n\n{\"a\":\"\xff\"}\n");
	load_fails(p, NULL, ":3:7: invalid UTF-8");

	/* Truncated sequence after a valid two-byte character. */
	p = puts_file("b.csv", "a,b\n\xc3\xa9,\xe2\x82\n");
	load_fails(p, NULL, ":2:3: invalid UTF-8");

	/* Overlong encodings and surrogates are refused. */
	p = puts_file("c.jsonl", "{\"a\":\"\xc0\xaf\"}\n");
	load_fails(p, NULL, ":1:7: invalid UTF-8");
	p = puts_file("d.jsonl", "{\"a\":\"\xed\xa0\x80\"}\n");
	load_fails(p, NULL, ":1:7: invalid UTF-8");
}
END_TEST

START_TEST(test_nul_byte)
{
	const char	*p;

	p = put("a.jsonl", "{\"a\":1}\n{\"a\":\"x\0\"}\n", 19);
	load_fails(p, NULL, ":2:8: unexpected NUL byte");
}
END_TEST

START_TEST(test_empty)
{
	const char	*p;

	p = puts_file("a.jsonl", "");
	load_fails(p, NULL, ": no examples");
	p = puts_file("b.jsonl", "\n  \r\n\t\n\n");
	load_fails(p, NULL, ": no examples");
	p = puts_file("c.csv", "");
	load_fails(p, NULL, ": no examples");
	p = puts_file("d.csv", "\n\r\n");
	load_fails(p, NULL, ": no examples");
	/* A header and no rows. */
	p = puts_file("e.csv", "text,label\r\n\r\n");
	load_fails(p, NULL, ": no examples");
	/* A BOM alone. */
	p = puts_file("f.jsonl", "\xef\xbb\xbf");
	load_fails(p, NULL, ": no examples");
}
END_TEST

static void
huge_line(const char *name, const char *head, const char *tail,
    const char *want)
{
	size_t	 hl = strlen(head), tl = strlen(tail);
	size_t	 x = DATASET_MAX_LINE + 1, n = hl + x + tl + 1;
	char	*buf;

	buf = malloc(n);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, head, hl);
	memset(buf + hl, 'x', x);
	memcpy(buf + hl + x, tail, tl);
	buf[n - 1] = '\n';
	load_fails(put(name, buf, n), NULL, want);
	free(buf);
}

START_TEST(test_huge_line)
{
	huge_line("a.jsonl", "{\"a\":1}\n\n{\"a\":\"", "\"}",
	    ":3: line is longer than 16777216 bytes");
	huge_line("b.csv", "a,b\n1,2\n\"", "\",y",
	    ":3: record is longer than 16777216 bytes");
}
END_TEST

START_TEST(test_line_at_limit)
{
	size_t		 n = DATASET_MAX_LINE + 1;
	char		*buf;
	struct dataset	*ds;

	/* A line of exactly DATASET_MAX_LINE bytes (before CRLF) loads. */
	buf = malloc(n + 1);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, "{\"a\":\"", 6);
	memset(buf + 6, 'y', DATASET_MAX_LINE - 8);
	memcpy(buf + DATASET_MAX_LINE - 2, "\"}\r\n", 4);
	ds = load_ok(put("a.jsonl", buf, n + 1), NULL);
	ck_assert_uint_eq(ds->n, 1);
	ck_assert_uint_eq(strlen(str_field(&ds->ex[0], "a")),
	    DATASET_MAX_LINE - 8);
	dataset_free(ds);
	free(buf);
}
END_TEST

START_TEST(test_bom)
{
	struct dataset	*ds;

	ds = load_ok(puts_file("a.jsonl", "\xef\xbb\xbf{\"q\":\"1\"}\n"), NULL);
	ck_assert_uint_eq(ds->n, 1);
	ck_assert_str_eq(ds->fields[0], "q");
	dataset_free(ds);

	ds = load_ok(puts_file("b.csv", "\xef\xbb\xbfq,a\r\n1,2\r\n"), NULL);
	ck_assert_uint_eq(ds->n, 1);
	ck_assert_str_eq(ds->fields[0], "q");
	ck_assert_str_eq(str_field(&ds->ex[0], "a"), "2");
	dataset_free(ds);

	/* Columns after a BOM start at 1 on the first line. */
	load_fails(puts_file("c.jsonl", "\xef\xbb\xbf{\"a\": tru}\n"), NULL,
	    ":1:7: invalid JSON");
}
END_TEST

START_TEST(test_csv_good)
{
	static const char text[] =
	    "text,label,note\r\n"
	    "\"a, b\",1,plain\r\n"
	    "\r\n"
	    "\"two\nlines\",\"say \"\"hi\"\"\",\n"
	    "\"\",\"\"\"\",x\"y\n"
	    "last,2,\"crlf\r\ninside\"";
	struct dataset	*ds;

	ds = load_ok(puts_file("data.csv", text), NULL);
	ck_assert_uint_eq(ds->n, 4);
	ck_assert_uint_eq(ds->nfields, 3);
	ck_assert_str_eq(ds->fields[0], "text");
	ck_assert_str_eq(ds->fields[1], "label");
	ck_assert_str_eq(ds->fields[2], "note");

	ck_assert_uint_eq(ds->ex[0].line, 2);
	ck_assert_str_eq(str_field(&ds->ex[0], "text"), "a, b");
	ck_assert_str_eq(str_field(&ds->ex[0], "label"), "1");
	ck_assert_str_eq(str_field(&ds->ex[0], "note"), "plain");

	ck_assert_uint_eq(ds->ex[1].line, 4);
	ck_assert_str_eq(str_field(&ds->ex[1], "text"), "two\nlines");
	ck_assert_str_eq(str_field(&ds->ex[1], "label"), "say \"hi\"");
	ck_assert_str_eq(str_field(&ds->ex[1], "note"), "");

	ck_assert_uint_eq(ds->ex[2].line, 6);
	ck_assert_str_eq(str_field(&ds->ex[2], "text"), "");
	ck_assert_str_eq(str_field(&ds->ex[2], "label"), "\"");
	ck_assert_str_eq(str_field(&ds->ex[2], "note"), "x\"y");

	ck_assert_uint_eq(ds->ex[3].line, 7);
	ck_assert_str_eq(str_field(&ds->ex[3], "text"), "last");
	ck_assert_str_eq(str_field(&ds->ex[3], "note"), "crlf\r\ninside");
	dataset_free(ds);

	/* The format argument wins over the extension. */
	ds = load_ok(puts_file("data.txt", "a\n1\n\n2\n"), "csv");
	ck_assert_uint_eq(ds->n, 2);
	ck_assert_uint_eq(ds->ex[1].line, 4);
	ck_assert_str_eq(str_field(&ds->ex[1], "a"), "2");
	dataset_free(ds);
	ds = load_ok(puts_file("data2.csv", "{\"a\":1}\n"), "jsonl");
	ck_assert_uint_eq(ds->n, 1);
	dataset_free(ds);
}
END_TEST

START_TEST(test_csv_unterminated)
{
	const char	*p;

	p = puts_file("a.csv", "a,b\n1,2\n3,\"open\nmore\n\nstill\n");
	load_fails(p, NULL, ":3:3: unterminated quoted field");
	p = puts_file("b.csv", "\"a");
	load_fails(p, NULL, ":1:1: unterminated quoted field");
}
END_TEST

START_TEST(test_csv_after_quote)
{
	const char	*p;

	p = puts_file("a.csv", "a,b\n\"x\"y,2\n");
	load_fails(p, NULL, ":2:4: expected ',' or the end of "
	    "the line after a closing quote");
	/* Reported on the line of the closing quote. */
	p = puts_file("b.csv", "a,b\n1,\"x\ny\" ,2\n");
	load_fails(p, NULL, ":3:3: expected ',' or the end of "
	    "the line after a closing quote");
}
END_TEST

START_TEST(test_csv_field_count)
{
	const char	*p;

	p = puts_file("a.csv", "a,b\n1,2\n\"x\ny\",2,3\n");
	load_fails(p, NULL, ":3: 3 fields, but the header has 2");
	p = puts_file("b.csv", "a,b\r\n1,2\r\n1\r\n");
	load_fails(p, NULL, ":3: 1 field, but the header has 2");
}
END_TEST

START_TEST(test_csv_header)
{
	const char	*p;

	p = puts_file("a.csv", "a,b,a\n1,2,3\n");
	load_fails(p, NULL, ":1: duplicate column 'a' (column 3)");
	p = puts_file("b.csv", "\na,,c\n1,2,3\n");
	load_fails(p, NULL, ":2: header column 2 has no name");
	p = puts_file("c.csv", "a,b,\"\"\n1,2,3\n");
	load_fails(p, NULL, ":1: header column 3 has no name");
}
END_TEST

START_TEST(test_format)
{
	struct dataset	*ds;
	const char	*p;
	char		*cause = NULL;

	p = puts_file("data.xml", "<a/>\n");
	load_fails(p, NULL, ": cannot tell the dataset format from the file "
	    "name (use .jsonl, .ndjson or .json for JSONL, .csv for CSV, or "
	    "name the format)");
	p = puts_file("jsonl", "{}\n");
	load_fails(p, NULL, ": cannot tell the dataset format from the file "
	    "name (use .jsonl, .ndjson or .json for JSONL, .csv for CSV, or "
	    "name the format)");
	p = puts_file("x.csv", "a\n1\n");
	load_fails(p, "json", ": unknown dataset format 'json' (did you mean "
	    "'jsonl'?)");
	load_fails(p, "parquet", ": unknown dataset format 'parquet' "
	    "(expected 'jsonl' or 'csv')");

	/* A missing file: file_read()'s message names it. */
	ds = dataset_load("/nonexistent/promptd/x.jsonl", NULL, &cause);
	ck_assert_ptr_null(ds);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "'/nonexistent/promptd/x.jsonl'"));
	free(cause);

	/* A NULL cause is allowed. */
	ck_assert_ptr_null(dataset_load(p, "parquet", NULL));
}
END_TEST

START_TEST(test_split_names)
{
	enum split	s;

	ck_assert_str_eq(split_name(SPLIT_TRAIN), "train");
	ck_assert_str_eq(split_name(SPLIT_DEV), "dev");
	ck_assert_str_eq(split_name(SPLIT_TEST), "test");
	ck_assert_int_eq(split_from_name("dev", &s), 0);
	ck_assert_int_eq(s, SPLIT_DEV);
	ck_assert_int_eq(split_from_name("test", &s), 0);
	ck_assert_int_eq(s, SPLIT_TEST);
	ck_assert_int_eq(split_from_name("train", &s), 0);
	ck_assert_int_eq(s, SPLIT_TRAIN);
	ck_assert_int_eq(split_from_name("Dev", &s), -1);
	ck_assert_int_eq(split_from_name("validation", &s), -1);
}
END_TEST

/* A JSONL dataset of n distinct examples, written in order or reversed. */
static struct dataset *
numbers(const char *name, size_t n, int reverse)
{
	char		*buf, *p;
	size_t		 i, k;
	struct dataset	*ds;

	p = buf = malloc(n * 32 + 1);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < n; i++) {
		k = reverse ? n - 1 - i : i;
		p += sprintf(p, "{\"q\":\"%zu\",\"a\":%zu}\n", k, k * 2);
	}
	ds = load_ok(put(name, buf, p - buf), NULL);
	free(buf);
	return ds;
}

static void
counts(struct dataset *ds, size_t train, size_t dev, size_t test)
{
	ck_assert_uint_eq(dataset_count(ds, SPLIT_TRAIN), train);
	ck_assert_uint_eq(dataset_count(ds, SPLIT_DEV), dev);
	ck_assert_uint_eq(dataset_count(ds, SPLIT_TEST), test);
}

START_TEST(test_split_proportions)
{
	struct dataset	*ds;

	ds = numbers("a.jsonl", 100, 0);
	counts(ds, 100, 0, 0);
	dataset_split(ds, 0.8, 0.1, 0.1, 1);
	counts(ds, 80, 10, 10);
	dataset_split(ds, 8, 1, 1, 1);
	counts(ds, 80, 10, 10);
	dataset_split(ds, 0.5, 0.5, 0, 7);
	counts(ds, 50, 50, 0);
	dataset_split(ds, 0, 1, 0, 7);
	counts(ds, 0, 100, 0);
	dataset_split(ds, 1, 1, 1, 7);
	counts(ds, 33, 33, 34);
	dataset_free(ds);

	ds = numbers("b.jsonl", 10, 0);
	dataset_split(ds, 0.7, 0.2, 0.1, 3);
	counts(ds, 7, 2, 1);
	/* 2.5 and 2.5 round up; dev gets what train left. */
	dataset_free(ds);
	ds = numbers("c.jsonl", 5, 0);
	dataset_split(ds, 0.5, 0.5, 0, 3);
	counts(ds, 3, 2, 0);
	/* Bad proportions count as zero; nothing positive means train. */
	dataset_split(ds, -1, 1, 0, 3);
	counts(ds, 0, 5, 0);
	dataset_split(ds, 0, 0, 0, 3);
	counts(ds, 5, 0, 0);
	dataset_split(ds, NAN, 1, 1, 3);
	counts(ds, 0, 3, 2);
	dataset_free(ds);
}
END_TEST

START_TEST(test_split_dev_nonempty)
{
	struct dataset	*ds;

	ds = numbers("a.jsonl", 1, 0);
	dataset_split(ds, 0.9, 0.05, 0.05, 1);
	counts(ds, 0, 1, 0);
	dataset_split(ds, 0, 0.01, 0.99, 1);
	counts(ds, 0, 1, 0);
	dataset_split(ds, 1, 0, 0, 1);
	counts(ds, 1, 0, 0);
	dataset_free(ds);

	ds = numbers("b.jsonl", 3, 0);
	dataset_split(ds, 0.9, 0.05, 0.05, 1);
	counts(ds, 2, 1, 0);
	/* With no train to take from, dev takes from test. */
	dataset_split(ds, 0, 0.01, 0.99, 1);
	counts(ds, 0, 1, 2);
	dataset_free(ds);

	ds = numbers("c.jsonl", 20, 0);
	dataset_split(ds, 0.9, 0.01, 0.09, 1);
	counts(ds, 17, 1, 2);
	dataset_free(ds);
}
END_TEST

/* The split of the example whose "q" is q. */
static enum split
split_of(const struct dataset *ds, const char *q)
{
	size_t	i;

	for (i = 0; i < ds->n; i++) {
		if (strcmp(str_field(&ds->ex[i], "q"), q) == 0)
			return ds->ex[i].split;
	}
	ck_abort_msg("no example %s", q);
	return SPLIT_TEST;
}

START_TEST(test_split_deterministic)
{
	struct dataset	*a, *b, *c;
	size_t		 i, moved;
	char		 q[32];

	a = numbers("a.jsonl", 200, 0);
	b = numbers("b.jsonl", 200, 1);
	c = numbers("c.jsonl", 200, 0);
	ck_assert_str_ne(a->hash, b->hash);
	ck_assert_str_eq(a->hash, c->hash);
	dataset_split(a, 0.6, 0.2, 0.2, 42);
	dataset_split(b, 0.6, 0.2, 0.2, 42);
	dataset_split(c, 0.6, 0.2, 0.2, 42);
	counts(a, 120, 40, 40);
	counts(b, 120, 40, 40);

	/* Same seed: same split, per example, whatever the line order. */
	for (i = 0; i < 200; i++) {
		snprintf(q, sizeof q, "%zu", i);
		ck_assert_int_eq(split_of(a, q), split_of(b, q));
		ck_assert_int_eq(a->ex[i].split, c->ex[i].split);
	}

	/* Splitting again with the same seed changes nothing. */
	dataset_split(c, 0.6, 0.2, 0.2, 42);
	for (i = 0; i < 200; i++)
		ck_assert_int_eq(a->ex[i].split, c->ex[i].split);

	/* Another seed: another assignment, same counts. */
	dataset_split(c, 0.6, 0.2, 0.2, 43);
	counts(c, 120, 40, 40);
	moved = 0;
	for (i = 0; i < 200; i++)
		moved += a->ex[i].split != c->ex[i].split;
	ck_assert_uint_gt(moved, 40);

	/* The split is not just the file order. */
	moved = 0;
	for (i = 0; i < 120; i++)
		moved += a->ex[i].split != SPLIT_TRAIN;
	ck_assert_uint_gt(moved, 10);

	dataset_free(a);
	dataset_free(b);
	dataset_free(c);
}
END_TEST

START_TEST(test_split_duplicates)
{
	struct dataset	*ds;

	/* Identical examples tie on the hash and are kept by position. */
	ds = load_ok(puts_file("a.jsonl",
	    "{\"q\":\"same\"}\n{\"q\":\"same\"}\n{\"q\":\"same\"}\n"
	    "{\"q\":\"same\"}\n"), NULL);
	ck_assert_str_eq(ds->ex[0].hash, ds->ex[3].hash);
	dataset_split(ds, 0.5, 0.25, 0.25, 9);
	ck_assert_int_eq(ds->ex[0].split, SPLIT_TRAIN);
	ck_assert_int_eq(ds->ex[1].split, SPLIT_TRAIN);
	ck_assert_int_eq(ds->ex[2].split, SPLIT_DEV);
	ck_assert_int_eq(ds->ex[3].split, SPLIT_TEST);
	dataset_free(ds);
}
END_TEST

static Suite *
dataset_suite(void)
{
	Suite	*s = suite_create("dataset");
	TCase	*tc;

	tc = tcase_create("jsonl");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_jsonl_good);
	tcase_add_test(tc, test_jsonl_no_final_newline);
	tcase_add_test(tc, test_jsonl_bad_json);
	tcase_add_test(tc, test_jsonl_not_object);
	tcase_add_test(tc, test_jsonl_duplicate_key);
	tcase_add_test(tc, test_bad_utf8);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_bom);
	tcase_add_test(tc, test_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_huge_line);
	tcase_add_test(tc, test_line_at_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("csv");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_csv_good);
	tcase_add_test(tc, test_csv_unterminated);
	tcase_add_test(tc, test_csv_after_quote);
	tcase_add_test(tc, test_csv_field_count);
	tcase_add_test(tc, test_csv_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_split_names);
	tcase_add_test(tc, test_split_proportions);
	tcase_add_test(tc, test_split_dev_nonempty);
	tcase_add_test(tc, test_split_deterministic);
	tcase_add_test(tc, test_split_duplicates);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(dataset_suite)
