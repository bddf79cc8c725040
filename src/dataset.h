/*
 * Datasets: JSONL (one object per line) or CSV with a header row, loaded
 * whole into memory.  Each example keeps its fields as a cJSON object
 * (CSV fields are strings), its 1-based line in the file and the split it
 * was assigned to.  Errors name the file and the line, and the column
 * (in characters) where there is one: "'data.jsonl' line 12: expected a
 * JSON object", "'data.jsonl' line 3, column 7: invalid UTF-8".  Callers
 * add their own context ("dataset ") in front.
 */
#ifndef DATASET_H
#define DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define DATASET_MAX_BYTES	((size_t)1 << 30)	/* 1 GiB */
#define DATASET_MAX_LINE	((size_t)16 << 20)	/* 16 MiB per line */

enum split {
	SPLIT_TRAIN,
	SPLIT_DEV,
	SPLIT_TEST,
};
#define SPLIT_COUNT	3

/*
 * Where an example came from: the dataset file, people's feedback, or
 * the optimizer (an input it wrote, labeled by the judge or a person).
 */
enum origin {
	ORIGIN_DATASET,
	ORIGIN_FEEDBACK,
	ORIGIN_SYNTHETIC,
};

struct example {
	size_t		 idx;		/* 0-based position among examples */
	size_t		 line;		/* 1-based line where it starts, 0 for
					   none */
	cJSON		*fields;	/* object, owned */
	enum split	 split;
	int64_t		 id;		/* row id in the store, 0 if none */
	char		 hash[65];	/* sha256 of the canonical fields */
	enum origin	 origin;
	int64_t		*from;		/* feedback: the interactions it was
					   made from (their store ids) */
	size_t		 nfrom;
};

/*
 * The first nfile examples are the file's; dataset_add() appends others
 * after them.  hash names the whole: the file's hash while there are no
 * others, else what dataset_rehash() makes of the file's hash and theirs.
 */
struct dataset {
	char		 *path;		/* NULL for none (dataset_empty()) */
	char		  hash[65];
	char		  file_hash[65];	/* sha256 of the file's bytes */
	struct example	 *ex;
	size_t		  n;
	size_t		  nfile;
	size_t		  cap;
	char		**fields;	/* every field name of the file,
					   first-seen order, NULL-terminated */
	size_t		  nfields;
};

/*
 * Loads path.  format is "jsonl", "csv" or NULL to choose by extension
 * (.jsonl/.ndjson/.json -> jsonl, .csv -> csv, any case).  Blank lines
 * are skipped; the file must be UTF-8 (a leading BOM is ignored) without
 * NUL bytes; lines end in LF or CRLF; a key repeated inside one JSONL
 * object, a duplicate or empty CSV column name and an empty dataset are
 * errors.  Examples are in file order and split SPLIT_TRAIN until
 * dataset_split().
 */
struct dataset	*dataset_load(const char *path, const char *format,
		    char **cause);
void		 dataset_free(struct dataset *);
int		 dataset_has_field(const struct dataset *, const char *);

/*
 * A dataset without a file and without examples, for a job whose
 * examples come from feedback alone: its hash is the SHA-256 of nothing.
 */
struct dataset	*dataset_empty(void);
/*
 * Appends an example from elsewhere than the file, with the origin given
 * (takes fields): its hash is made as a loaded example's, its split is
 * train until the caller sets it, it has no line and no store id.
 */
struct example	*dataset_add(struct dataset *, cJSON *fields, enum origin);
/* Drops the examples from the nth on (n >= nfile keeps the file's). */
void		 dataset_truncate(struct dataset *, size_t n);
/*
 * Makes hash name the examples the dataset holds now: the file's hash
 * when it holds the file's alone, else the SHA-256 of the file's hash and
 * of each added example's hash and split (and "synthetic" for a
 * synthetic one), in order.  So a snapshot of the file with other
 * examples added is another snapshot, one per set.
 */
void		 dataset_rehash(struct dataset *);

/* A field of an example (borrowed), or NULL. */
const cJSON	*example_field(const struct example *, const char *);

/*
 * Assigns splits deterministically: examples are ordered by a hash of
 * (seed, example content) and cut in the given proportions (which must
 * sum to a positive number; they are normalized).  The same content gets
 * the same place for the same seed, whatever its line.  Train gets
 * round(train * n) examples, dev round(dev * n), test the rest; when dev
 * is positive dev gets at least one example (taken from train first).
 * Negative or non-finite proportions count as zero; if none is left
 * positive, every example goes to train.
 */
void		 dataset_split(struct dataset *, double train, double dev,
		    double test, uint64_t seed);
/*
 * The split of one example by a key of its own (a hash of its content):
 * hash64 of the key with the seed, as a fraction of 2^64, cut at the
 * normalized proportions (as dataset_split() takes them).  Unlike
 * dataset_split(), which ranks a whole dataset, it depends on nothing
 * else: the same key keeps its split however many examples join it, at
 * the price of proportions that hold on average only (dev may be empty).
 */
enum split	 split_by_key(const char *key, double train, double dev,
		    double test, uint64_t seed);
/* Number of examples in a split. */
size_t		 dataset_count(const struct dataset *, enum split);
const char	*split_name(enum split);
int		 split_from_name(const char *, enum split *);

#endif
