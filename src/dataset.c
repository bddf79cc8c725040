/* Datasets: JSONL and CSV loading, field names and deterministic splits. */
#include <sys/types.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "dataset.h"
#include "hash.h"
#include "jsonc.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

enum dataset_format {
	FORMAT_JSONL,
	FORMAT_CSV,
};

static const char *const format_names[] = { "jsonl", "csv", NULL };

/*
 * A loader's state: the text being read (without a BOM), the dataset
 * being built and a hash set of its field names.  The set stores indices
 * into ds->fields plus one (0 is an empty slot); stamp[i] is the number
 * of the record that last used field i, which finds a key repeated
 * inside one record without a second set.
 */
struct loader {
	const char	*path;
	const char	*text;
	size_t		 len;
	struct dataset	*ds;
	size_t		 capfields;
	size_t		*set;
	size_t		 capset;
	size_t		*stamp;
	size_t		 record;
};

static const char *const split_names[SPLIT_COUNT] = {
	"train", "dev", "test"
};

/*
 * Finds the line and column (both 1-based, the column in characters) of
 * byte off of the loader's text.  Only used on error paths.
 */
static void
loader_where(const struct loader *ld, size_t off, size_t *line, size_t *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < ld->len; i++) {
		if (ld->text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)ld->text[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/*
 * Looks up a field name; adds it (a copy) when add is set.  Returns its
 * index in ds->fields, or -1 when absent and not added.
 */
static ssize_t
loader_field(struct loader *ld, const char *name, int add)
{
	struct dataset	*ds = ld->ds;
	size_t		 i, s, *old, oldcap;

	if (ld->capset != 0) {
		s = hash64_str(name, 0) & (ld->capset - 1);
		while (ld->set[s] != 0) {
			if (strcmp(ds->fields[ld->set[s] - 1], name) == 0)
				return (ssize_t)(ld->set[s] - 1);
			s = (s + 1) & (ld->capset - 1);
		}
	}
	if (!add)
		return -1;

	if (ds->nfields + 2 > ld->capfields) {
		ld->capfields = ld->capfields == 0 ? 16 : ld->capfields * 2;
		ds->fields = xreallocarray(ds->fields, ld->capfields,
		    sizeof *ds->fields);
		ld->stamp = xreallocarray(ld->stamp, ld->capfields,
		    sizeof *ld->stamp);
	}
	ds->fields[ds->nfields] = xstrdup(name);
	ld->stamp[ds->nfields] = 0;
	ds->nfields++;
	ds->fields[ds->nfields] = NULL;

	if (ds->nfields * 2 > ld->capset) {
		old = ld->set;
		oldcap = ld->capset;
		ld->capset = oldcap == 0 ? 32 : oldcap * 2;
		ld->set = xcalloc(ld->capset, sizeof *ld->set);
		for (i = 0; i < ds->nfields; i++) {
			s = hash64_str(ds->fields[i], 0) & (ld->capset - 1);
			while (ld->set[s] != 0)
				s = (s + 1) & (ld->capset - 1);
			ld->set[s] = i + 1;
		}
		free(old);
		return (ssize_t)(ds->nfields - 1);
	}
	s = hash64_str(name, 0) & (ld->capset - 1);
	while (ld->set[s] != 0)
		s = (s + 1) & (ld->capset - 1);
	ld->set[s] = ds->nfields;
	return (ssize_t)(ds->nfields - 1);
}

/*
 * Notes that the current record uses name.  Returns -1 when the record
 * used it already (a duplicate key or column).
 */
static int
loader_use(struct loader *ld, const char *name)
{
	size_t	i;

	i = (size_t)loader_field(ld, name, 1);
	if (ld->stamp[i] == ld->record)
		return -1;
	ld->stamp[i] = ld->record;
	return 0;
}

/* Appends an example, in train; takes fields. */
static struct example *
dataset_append(struct dataset *ds, size_t line, cJSON *fields)
{
	struct example	*ex;

	if (ds->n == ds->cap) {
		ds->cap = ds->cap == 0 ? 64 : ds->cap * 2;
		ds->ex = xreallocarray(ds->ex, ds->cap, sizeof *ds->ex);
	}
	ex = &ds->ex[ds->n];
	memset(ex, 0, sizeof *ex);
	ex->idx = ds->n;
	ex->line = line;
	ex->fields = fields;
	ex->split = SPLIT_TRAIN;
	ds->n++;
	return ex;
}

static void
loader_add(struct loader *ld, size_t line, cJSON *fields)
{
	dataset_append(ld->ds, line, fields);
}

/* The SHA-256 of an example's canonical fields, as the store keeps it. */
static void
example_hash(struct example *ex)
{
	char	*canon;

	if ((canon = cJSON_PrintUnformatted(ex->fields)) == NULL)
		fatalx("%s: out of memory", __func__);
	sha256_hex(canon, strlen(canon), ex->hash);
	cJSON_free(canon);
}

static int
is_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	}
	return 1;
}

/* Reads one JSON object per non-blank line. */
static int
load_jsonl(struct loader *ld, char **cause)
{
	const char	*s, *end = ld->text + ld->len, *e, *next, *pend;
	const cJSON	*member;
	cJSON		*obj;
	size_t		 line, llen;

	for (line = 1, s = ld->text; s < end; line++, s = next) {
		if ((e = memchr(s, '\n', end - s)) == NULL) {
			e = end;
			next = end;
		} else
			next = e + 1;
		llen = e - s;
		if (llen > 0 && s[llen - 1] == '\r')
			llen--;
		if (is_blank(s, llen))
			continue;
		if (llen > DATASET_MAX_LINE) {
			return cause_set(cause, "%s:%zu: line is longer "
			    "than %zu bytes", ld->path, line, DATASET_MAX_LINE);
		}

		/*
		 * The byte after the line is always a CR, an LF or the
		 * buffer's NUL: letting cJSON see it makes an object cut
		 * short fail just past the line's end, not on its last byte.
		 */
		pend = NULL;
		obj = cJSON_ParseWithLengthOpts(s, llen + 1, &pend, 0);
		if (obj != NULL) {
			while (pend < s + llen && (*pend == ' ' ||
			    *pend == '\t' || *pend == '\r'))
				pend++;
			if (pend < s + llen) {
				cJSON_Delete(obj);
				obj = NULL;
			}
		}
		if (obj == NULL) {
			if (pend == NULL || pend < s)
				pend = s;
			if (pend > s + llen)
				pend = s + llen;
			return cause_set(cause, "%s:%zu:%zu: "
			    "invalid JSON", ld->path, line,
			    utf8_chars(s, pend - s) + 1);
		}
		if (!cJSON_IsObject(obj)) {
			cause_set(cause, "%s:%zu: expected a JSON "
			    "object, got %s", ld->path, line,
			    json_kind(obj));
			cJSON_Delete(obj);
			return -1;
		}

		ld->record++;
		cJSON_ArrayForEach(member, obj) {
			if (loader_use(ld, member->string) != 0) {
				cause_set(cause, "%s:%zu: duplicate key "
				    "'%s'", ld->path, line, member->string);
				cJSON_Delete(obj);
				return -1;
			}
		}
		loader_add(ld, line, obj);
	}
	return 0;
}

/* The column (1-based, in characters) of byte off of the loader's text. */
static size_t
loader_col(const struct loader *ld, size_t off)
{
	size_t	start = off;

	while (start > 0 && ld->text[start - 1] != '\n')
		start--;
	return utf8_chars(ld->text + start, off - start) + 1;
}

/*
 * Skips the blank lines (nothing but blanks) at byte *i, counting them
 * in *lineno.  Returns 0 when nothing else is left (*i is then the end of
 * the text), else 1 with *i at the start of the next record's line.
 */
static int
csv_skip_blank(const struct loader *ld, size_t *i, size_t *lineno)
{
	const char	*t = ld->text;
	size_t		 j = *i, n = ld->len, start;

	for (;;) {
		start = j;
		while (j < n && (t[j] == ' ' || t[j] == '\t' ||
		    t[j] == '\r'))
			j++;
		if (j == n) {
			*i = n;
			return 0;
		}
		if (t[j] != '\n') {
			*i = start;
			return 1;
		}
		j++;
		(*lineno)++;
	}
}

/*
 * Reads the quoted field at byte *i into sb ('""' is a quote) and moves
 * *i past it and the '\r' of a CRLF, counting the line breaks inside it
 * in *lineno.  It must be followed by ',' or the end of the line.
 */
static int
csv_quoted(const struct loader *ld, size_t *i, size_t *lineno,
    struct strbuf *sb, char **cause)
{
	const char	*t = ld->text;
	size_t		 j = *i, n = ld->len, fstart = *i, fline = *lineno;

	j++;
	for (;;) {
		if (j == n) {
			cause_set(cause, "%s:%zu:%zu: "
			    "unterminated quoted field", ld->path, fline,
			    loader_col(ld, fstart));
			return -1;
		}
		if (t[j] == '"') {
			if (j + 1 < n && t[j + 1] == '"') {
				strbuf_addc(sb, '"');
				j += 2;
				continue;
			}
			j++;
			break;
		}
		if (t[j] == '\n')
			(*lineno)++;
		strbuf_addc(sb, t[j]);
		j++;
	}
	if (j < n && t[j] == '\r' && (j + 1 == n || t[j + 1] == '\n'))
		j++;
	if (j < n && t[j] != ',' && t[j] != '\n') {
		cause_set(cause, "%s:%zu:%zu: expected ',' or "
		    "the end of the line after a closing quote", ld->path,
		    *lineno, loader_col(ld, j));
		return -1;
	}
	*i = j;
	return 0;
}

/*
 * Reads the unquoted field at byte *i into sb, to the next ',' or the end
 * of the line (the '\r' of a CRLF left out), and moves *i there.
 */
static void
csv_plain(const struct loader *ld, size_t *i, struct strbuf *sb)
{
	const char	*t = ld->text;
	size_t		 j = *i, n = ld->len;

	while (j < n && t[j] != ',' && t[j] != '\n') {
		if (t[j] != '\r' || (j + 1 < n && t[j + 1] != '\n'))
			strbuf_addc(sb, t[j]);
		j++;
	}
	*i = j;
}

/*
 * Reads one CSV record starting at byte *off and line *line into fields
 * (each an allocated string) and moves both past it; *recline is the
 * line where the record starts.  Blank lines before it are skipped.
 * Returns 1 when a record was read, 0 at the end of the text, -1 on
 * error.
 */
static int
csv_record(struct loader *ld, size_t *off, size_t *line, size_t *recline,
    char ***fields, size_t *nfields, char **cause)
{
	const char	*t = ld->text;
	size_t		 i = *off, n = ld->len, start, lineno = *line;
	size_t		 cap = 0, nf = 0;
	struct strbuf	 sb;
	char		**f = NULL;
	int		 more;

	*fields = NULL;
	*nfields = 0;

	if (csv_skip_blank(ld, &i, &lineno) == 0) {
		*off = i;
		*line = lineno;
		return 0;
	}
	start = i;
	*recline = lineno;

	strbuf_init(&sb);
	for (more = 1; more;) {
		strbuf_reset(&sb);
		if (i < n && t[i] == '"') {
			if (csv_quoted(ld, &i, &lineno, &sb, cause) != 0)
				goto fail;
		} else
			csv_plain(ld, &i, &sb);
		if (nf == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			f = xreallocarray(f, cap, sizeof *f);
		}
		f[nf++] = xstrdup(sb.buf != NULL ? sb.buf : "");

		if (i < n && t[i] == ',')
			i++;
		else {
			if (i < n) {
				i++;	/* The newline. */
				lineno++;
			}
			more = 0;
		}
		if (i - start > DATASET_MAX_LINE) {
			cause_set(cause, "%s:%zu: record is longer than "
			    "%zu bytes", ld->path, *recline, DATASET_MAX_LINE);
			goto fail;
		}
	}
	strbuf_release(&sb);
	*off = i;
	*line = lineno;
	*fields = f;
	*nfields = nf;
	return 1;

fail:
	strbuf_release(&sb);
	while (nf > 0)
		free(f[--nf]);
	free(f);
	return -1;
}

static void
free_fields(char **f, size_t nf)
{
	size_t	i;

	for (i = 0; i < nf; i++)
		free(f[i]);
	free(f);
}

/*
 * Reads CSV (RFC 4180) with a header row.  The line of each record is
 * the line where it starts.  Every value is a string.
 */
static int
load_csv(struct loader *ld, char **cause)
{
	char	**hdr = NULL, **row = NULL;
	size_t	  nhdr = 0, nrow = 0, off = 0, line = 1, hline, rline, i;
	cJSON	 *obj, *v;
	int	  r;

	r = csv_record(ld, &off, &line, &hline, &hdr, &nhdr, cause);
	if (r <= 0)
		return r;
	ld->record++;
	for (i = 0; i < nhdr; i++) {
		if (hdr[i][0] == '\0') {
			cause_set(cause, "%s:%zu: header column %zu has "
			    "no name", ld->path, hline, i + 1);
			goto fail;
		}
		if (loader_use(ld, hdr[i]) != 0) {
			cause_set(cause, "%s:%zu: duplicate column "
			    "'%s' (column %zu)", ld->path, hline, hdr[i],
			    i + 1);
			goto fail;
		}
	}

	for (;;) {
		r = csv_record(ld, &off, &line, &rline, &row, &nrow, cause);
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		if (nrow != nhdr) {
			cause_set(cause, "%s:%zu: %zu field%s, but the "
			    "header has %zu", ld->path, rline, nrow,
			    nrow == 1 ? "" : "s", nhdr);
			goto fail;
		}
		if ((obj = cJSON_CreateObject()) == NULL)
			fatalx("%s: out of memory", __func__);
		for (i = 0; i < nrow; i++) {
			if ((v = cJSON_CreateString(row[i])) == NULL)
				fatalx("%s: out of memory", __func__);
			cJSON_AddItemToObject(obj, hdr[i], v);
		}
		loader_add(ld, rline, obj);
		free_fields(row, nrow);
		row = NULL;
		nrow = 0;
	}
	free_fields(hdr, nhdr);
	return 0;

fail:
	free_fields(row, nrow);
	free_fields(hdr, nhdr);
	return -1;
}

static int
format_choose(const char *path, const char *format, enum dataset_format *out,
    char **cause)
{
	const char	*ext, *slash, *s;

	if (format != NULL) {
		if (strcmp(format, "jsonl") == 0)
			*out = FORMAT_JSONL;
		else if (strcmp(format, "csv") == 0)
			*out = FORMAT_CSV;
		else if ((s = suggest(format, format_names)) != NULL) {
			return cause_set(cause, "'%s': unknown dataset format "
			    "'%s' (did you mean '%s'?)", path, format, s);
		} else {
			return cause_set(cause, "'%s': unknown dataset format "
			    "'%s' (expected 'jsonl' or 'csv')", path, format);
		}
		return 0;
	}

	ext = strrchr(path, '.');
	slash = strrchr(path, '/');
	if (ext != NULL && (slash == NULL || ext > slash)) {
		if (strcasecmp(ext, ".jsonl") == 0 ||
		    strcasecmp(ext, ".ndjson") == 0 ||
		    strcasecmp(ext, ".json") == 0) {
			*out = FORMAT_JSONL;
			return 0;
		}
		if (strcasecmp(ext, ".csv") == 0) {
			*out = FORMAT_CSV;
			return 0;
		}
	}
	return cause_set(cause, "'%s': cannot tell the dataset format from "
	    "the file name (use .jsonl, .ndjson or .json for JSONL, .csv for "
	    "CSV, or name the format)", path);
}

struct dataset *
dataset_load(const char *path, const char *format, char **cause)
{
	struct loader		 ld;
	struct dataset		*ds = NULL;
	enum dataset_format	 fmt = FORMAT_JSONL;
	char			*buf = NULL, *nul;
	size_t			 len, bad, line, col, i;

	memset(&ld, 0, sizeof ld);
	if (format_choose(path, format, &fmt, cause) != 0)
		return NULL;
	if (file_read(path, DATASET_MAX_BYTES, &buf, &len, cause) != 0)
		return NULL;

	ds = xcalloc(1, sizeof *ds);
	ds->path = xstrdup(path);
	sha256_hex(buf, len, ds->file_hash);
	memcpy(ds->hash, ds->file_hash, sizeof ds->hash);

	ld.path = path;
	ld.ds = ds;
	ld.text = buf;
	ld.len = len;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		ld.text += 3;
		ld.len -= 3;
	}
	if (utf8_valid(ld.text, ld.len, &bad) != 0) {
		loader_where(&ld, bad, &line, &col);
		cause_set(cause, "%s:%zu:%zu: invalid UTF-8",
		    path, line, col);
		goto fail;
	}
	if ((nul = memchr(ld.text, '\0', ld.len)) != NULL) {
		loader_where(&ld, nul - ld.text, &line, &col);
		cause_set(cause, "%s:%zu:%zu: unexpected NUL "
		    "byte", path, line, col);
		goto fail;
	}

	if (fmt == FORMAT_JSONL) {
		if (load_jsonl(&ld, cause) != 0)
			goto fail;
	} else {
		if (load_csv(&ld, cause) != 0)
			goto fail;
	}
	if (ds->n == 0) {
		cause_set(cause, "'%s': no examples", path);
		goto fail;
	}

	for (i = 0; i < ds->n; i++)
		example_hash(&ds->ex[i]);
	ds->nfile = ds->n;
	if (ds->fields == NULL)
		ds->fields = xcalloc(1, sizeof *ds->fields);

	free(ld.set);
	free(ld.stamp);
	free(buf);
	return ds;

fail:
	free(ld.set);
	free(ld.stamp);
	free(buf);
	dataset_free(ds);
	return NULL;
}

void
dataset_free(struct dataset *ds)
{
	size_t	i;

	if (ds == NULL)
		return;
	dataset_truncate(ds, 0);
	free(ds->ex);
	for (i = 0; i < ds->nfields; i++)
		free(ds->fields[i]);
	free(ds->fields);
	free(ds->path);
	free(ds);
}

struct dataset *
dataset_empty(void)
{
	struct dataset	*ds;

	ds = xcalloc(1, sizeof *ds);
	sha256_hex("", 0, ds->file_hash);
	memcpy(ds->hash, ds->file_hash, sizeof ds->hash);
	ds->fields = xcalloc(1, sizeof *ds->fields);
	return ds;
}

struct example *
dataset_add(struct dataset *ds, cJSON *fields, enum origin origin)
{
	struct example	*ex;

	ex = dataset_append(ds, 0, fields);
	ex->origin = origin;
	example_hash(ex);
	return ex;
}

void
dataset_truncate(struct dataset *ds, size_t n)
{
	struct example	*ex;

	while (ds->n > n) {
		ex = &ds->ex[--ds->n];
		cJSON_Delete(ex->fields);
		free(ex->from);
	}
	if (ds->nfile > ds->n)
		ds->nfile = ds->n;
}

void
dataset_rehash(struct dataset *ds)
{
	struct sha256	 h;
	const char	*split;
	size_t		 i;

	if (ds->n == ds->nfile) {
		memcpy(ds->hash, ds->file_hash, sizeof ds->hash);
		return;
	}
	sha256_init(&h);
	sha256_update(&h, ds->file_hash, strlen(ds->file_hash));
	for (i = ds->nfile; i < ds->n; i++) {
		split = split_name(ds->ex[i].split);
		sha256_update(&h, " ", 1);
		sha256_update(&h, ds->ex[i].hash, strlen(ds->ex[i].hash));
		sha256_update(&h, " ", 1);
		sha256_update(&h, split, strlen(split));
		/* Told apart from feedback with the same fields. */
		if (ds->ex[i].origin == ORIGIN_SYNTHETIC)
			sha256_update(&h, " synthetic", 10);
	}
	sha256_final_hex(&h, ds->hash);
}

int
dataset_has_field(const struct dataset *ds, const char *name)
{
	size_t	i;

	for (i = 0; i < ds->nfields; i++) {
		if (strcmp(ds->fields[i], name) == 0)
			return 1;
	}
	return 0;
}

const cJSON *
example_field(const struct example *ex, const char *name)
{
	if (ex == NULL || ex->fields == NULL)
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(ex->fields, name);
}

struct split_key {
	uint64_t	h;
	size_t		idx;
};

static int
split_key_cmp(const void *a, const void *b)
{
	const struct split_key	*ka = a, *kb = b;

	if (ka->h != kb->h)
		return ka->h < kb->h ? -1 : 1;
	if (ka->idx != kb->idx)
		return ka->idx < kb->idx ? -1 : 1;
	return 0;
}

/* A proportion that is negative or not a number counts as zero. */
static double
proportion(double v)
{
	return isfinite(v) && v > 0 ? v : 0;
}

void
dataset_split(struct dataset *ds, double train, double dev, double test,
    uint64_t seed)
{
	struct split_key	*keys;
	double			 sum;
	size_t			 n = ds->n, ntrain, ndev, i;

	if (n == 0)
		return;
	train = proportion(train);
	dev = proportion(dev);
	test = proportion(test);
	sum = train + dev + test;
	if (!isfinite(sum) || sum <= 0) {
		train = 1;
		dev = test = 0;
		sum = 1;
	}

	ntrain = (size_t)llround(train / sum * (double)n);
	if (ntrain > n)
		ntrain = n;
	ndev = (size_t)llround(dev / sum * (double)n);
	if (ndev > n - ntrain)
		ndev = n - ntrain;
	if (dev > 0 && ndev == 0) {
		/* Evaluation needs a dev example: take one from train first. */
		if (ntrain > 0)
			ntrain--;
		ndev = 1;
	}

	keys = xreallocarray(NULL, n, sizeof *keys);
	for (i = 0; i < n; i++) {
		keys[i].h = hash64_str(ds->ex[i].hash, seed);
		keys[i].idx = i;
	}
	qsort(keys, n, sizeof *keys, split_key_cmp);
	for (i = 0; i < n; i++) {
		if (i < ntrain)
			ds->ex[keys[i].idx].split = SPLIT_TRAIN;
		else if (i < ntrain + ndev)
			ds->ex[keys[i].idx].split = SPLIT_DEV;
		else
			ds->ex[keys[i].idx].split = SPLIT_TEST;
	}
	free(keys);
}

enum split
split_by_key(const char *key, double train, double dev, double test,
    uint64_t seed)
{
	double	sum, u;

	train = proportion(train);
	dev = proportion(dev);
	test = proportion(test);
	sum = train + dev + test;
	if (!isfinite(sum) || sum <= 0)
		return SPLIT_TRAIN;
	/* The top 53 bits: a double in [0, 1) that loses none of them. */
	u = (double)(hash64_str(key, seed) >> 11) * 0x1p-53;
	if (u < train / sum)
		return SPLIT_TRAIN;
	if (u < (train + dev) / sum)
		return SPLIT_DEV;
	return test > 0 ? SPLIT_TEST : SPLIT_DEV;
}

size_t
dataset_count(const struct dataset *ds, enum split split)
{
	size_t	i, n = 0;

	for (i = 0; i < ds->n; i++) {
		if (ds->ex[i].split == split)
			n++;
	}
	return n;
}

const char *
split_name(enum split split)
{
	if ((unsigned)split >= SPLIT_COUNT)
		return "unknown";
	return split_names[split];
}

int
split_from_name(const char *name, enum split *out)
{
	size_t	i;

	for (i = 0; i < SPLIT_COUNT; i++) {
		if (strcmp(name, split_names[i]) == 0) {
			*out = (enum split)i;
			return 0;
		}
	}
	return -1;
}
