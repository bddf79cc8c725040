/*
 * Synthetic boundary cases: Intent-based Prompt Calibration (Levi et
 * al., "Intent-based Prompt Calibration: Enhancing prompt optimization
 * with synthetic boundary cases", 2024) for a job that sets "synthetic"
 * (promptd-job(5)), whatever its strategy.
 *
 * At the start of a run, while the job has fewer train and dev examples
 * than synthetic.until, the optimizer is shown the task's description,
 * the current prompt (the champion, else the first seed) and a few
 * examples, and asked for new inputs near the boundary between answers
 * (meta-prompt synth_generate).  Each is stored (store_synthetic_add())
 * with a split of its own (train or dev, never test) and labeled: by the
 * judge (synth_label, read with reply_read_answer()), or by people
 * through promptctl feedback, the run waiting in its fiber until every
 * one is answered.  The labeled ones join the run's dataset as examples
 * of origin 'synthetic', in a new snapshot that the run goes on with, and
 * the strategy starts on the enlarged set.  Later runs take them from
 * the store (ingest_examples()), and generate a new round against the
 * champion they start from.
 *
 * The paper's loop generates, annotates, evaluates and refines within
 * one optimization, and shows the generator the prompt's history; here a
 * round is one per run, before the strategy, and a refresh (or the next
 * optimize run) is the next iteration.
 *
 * A round is replayed as it was when a run resumes without a checkpoint:
 * its requests are the same (the random stream of the run, the same
 * prompt and examples), the cache answers them, the rows are found by
 * their inputs, and only what is still pending is labeled.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "dataset.h"
#include "hash.h"
#include "ingest.h"
#include "job.h"
#include "jobrun.h"
#include "jsonc.h"
#include "log.h"
#include "reply.h"
#include "rng.h"
#include "store.h"
#include "strbuf.h"
#include "template.h"
#include "util.h"
#include "xmalloc.h"

/* Existing examples the generator is shown, and the labeler. */
#define SYNTH_SHOWN		5
#define SYNTH_LABEL_SHOWN	3
/* Inputs of earlier rounds the generator is told not to repeat. */
#define SYNTH_PREVIOUS		20
/* Distinct answers at most, and their length, that a task knows. */
#define SYNTH_CHOICES		20
#define SYNTH_CHOICE_BYTES	40
#define SYNTH_TEMPERATURE	1.0
/* The stream of the run's draws ("synth"). */
#define SYNTH_STREAM		0x73796e7468ULL

/* Why written inputs were left out, and labels not had. */
enum synth_drop {
	DROP_BAD,		/* not read as the task's inputs */
	DROP_COPY,		/* an existing example's inputs */
	DROP_REPEAT,		/* written in an earlier round, or
				   earlier in this one */
	DROP_REFUSED,		/* the judge declined */
	DROP_UNREADABLE,	/* no answer read from the judge */
	DROP_NO_ANSWER,		/* the judge could not tell */
	DROP_NO_REPLY,		/* no reply (a budget, a failed call) */
	DROP_SKIPPED,		/* a person skipped it */
	DROP_COUNT
};
static const char *const synth_drop_names[DROP_COUNT] = {
	"not readable as the task's inputs", "copies an existing example",
	"written before", "refused by the judge",
	"no answer read from the judge", "the judge could not tell",
	"no reply from the judge", "skipped"
};

/* A round of one run. */
struct synth {
	struct jobrun	*jr;
	const char	**fields;	/* the template's, but the target */
	size_t		  nfields;
	char		(*keys)[65];	/* the inputs of the dataset's */
	size_t		  nkeys;
	int64_t		 *rows;		/* the round's, as stored */
	size_t		  nrows;
	char		 *choices;	/* JSON array, or NULL */
	char		 *shown;	/* examples for the labeler */
	size_t		  drops[DROP_COUNT];
	size_t		  written;	/* inputs read from the reply */
	size_t		  added;	/* rows added (or found) */
};

/* Whether the job's labels come from people. */
static int
synth_people(const struct jobrun *jr)
{
	return jr->job->synthetic.labeler == LABELER_PEOPLE;
}

int
jobrun_synth_due(const struct jobrun *jr, int checkpointed)
{
	return jr->job->synthetic.on && !checkpointed;
}

char *
jobrun_synth_waiting(const struct jobrun *jr)
{
	if (jr->synth_waiting <= 0)
		return NULL;
	return xasprintf("%lld synthetic example%s wait%s for labels: "
	    "promptctl feedback %s", jr->synth_waiting,
	    jr->synth_waiting == 1 ? "" : "s", jr->synth_waiting == 1 ?
	    "s" : "", jr->job->task.name);
}

int
jobrun_synth_labels(const struct job *job)
{
	return job->synthetic.on && job->synthetic.labeler == LABELER_PEOPLE;
}

/*
 * A label line before the input ("Input 3:", "**Example:**", "New
 * input -"): what follows it, or s.
 */
static const char *
synth_unlabel(const char *s)
{
	static const char *const words[] = {
		"new input", "input", "example", "case", NULL
	};
	const char	*p = s;
	size_t		 i, n;

	while (*p == '*' || *p == '#' || *p == '_' || *p == ' ')
		p++;
	for (i = 0; words[i] != NULL; i++)
		if (strncasecmp(p, words[i], (n = strlen(words[i]))) == 0)
			break;
	if (words[i] == NULL)
		return s;
	p += n;
	while (*p == ' ' || *p == '#' || isdigit((unsigned char)*p))
		p++;
	while (*p == '*' || *p == '_')
		p++;
	if (*p != ':' && *p != '-')
		return s;
	for (p++; *p == '*' || *p == '_' || isspace((unsigned char)*p); p++)
		;
	return *p != '\0' ? p : s;
}

/* The JSON object in text (from its first '{' to its last '}'), or NULL. */
static cJSON *
synth_object(const char *text)
{
	const char	*b, *e;
	cJSON		*o;

	if ((b = strchr(text, '{')) == NULL || (e = strrchr(text, '}')) ==
	    NULL || e < b)
		return NULL;
	o = cJSON_ParseWithLength(b, (size_t)(e - b + 1));
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *
jobrun_synth_inputs(const char *const *fields, size_t n, const char *part,
    const char **why)
{
	const cJSON	*v;
	cJSON		*o, *out;
	const char	*text;
	char		*s;
	size_t		 i;

	text = synth_unlabel(part);
	o = *text == '{' || n > 1 ? synth_object(text) : NULL;
	/* One field: an object that does not name it is the text itself. */
	if (n == 1 && o != NULL && cJSON_GetObjectItemCaseSensitive(o,
	    fields[0]) == NULL) {
		cJSON_Delete(o);
		o = NULL;
	}
	out = cJSON_CreateObject();
	if (o == NULL && n == 1) {
		s = trim_dup(text, strlen(text));
		if (*s == '\0') {
			free(s);
			cJSON_Delete(out);
			*why = "empty";
			return NULL;
		}
		cJSON_AddStringToObject(out, fields[0], s);
		free(s);
		return out;
	}
	for (i = 0; i < n; i++) {
		v = cJSON_GetObjectItemCaseSensitive(o, fields[i]);
		if (cJSON_IsString(v) && *v->valuestring != '\0')
			cJSON_AddStringToObject(out, fields[i], v->valuestring);
		else if (cJSON_IsNumber(v) || cJSON_IsBool(v))
			cJSON_AddItemToObject(out, fields[i],
			    cJSON_Duplicate(v, 0));
		else
			break;
	}
	cJSON_Delete(o);
	if (i < n) {
		cJSON_Delete(out);
		*why = n == 1 ? "its field is not a string or number" :
		    "not a JSON object with a value for each field";
		return NULL;
	}
	return out;
}

/* The template's fields the generator writes: all but the target. */
static void
synth_fields(struct synth *sy)
{
	const struct task	*t = &sy->jr->job->task;
	const char		*f;
	size_t			 i;

	sy->fields = xcalloc(template_nfields(t->tmpl) + 1,
	    sizeof *sy->fields);
	for (i = 0; i < template_nfields(t->tmpl); i++) {
		f = template_field(t->tmpl, i);
		if (t->target == NULL || strcmp(f, t->target) != 0)
			sy->fields[sy->nfields++] = f;
	}
}

/* The inputs keys of the dataset's examples, every split. */
static void
synth_keys(struct synth *sy)
{
	const struct dataset	*ds = sy->jr->job->task.dataset;
	size_t			 i;

	sy->keys = xcalloc(ds->n + 1, sizeof *sy->keys);
	sy->nkeys = 0;
	for (i = 0; i < ds->n; i++)
		if (ingest_inputs_key(sy->jr->job->task.tmpl, ds->ex[i].fields,
		    sy->keys[sy->nkeys]))
			sy->nkeys++;
}

static int
synth_known(const struct synth *sy, const char *key)
{
	size_t	i;

	for (i = 0; i < sy->nkeys; i++)
		if (strcmp(sy->keys[i], key) == 0)
			return 1;
	return 0;
}

/*
 * The answers the task knows, as a JSON array: the distinct targets of
 * its examples when they are few and short (a label task); else NULL.
 */
static char *
synth_choices(const struct synth *sy)
{
	const struct task	*t = &sy->jr->job->task;
	const struct dataset	*ds = t->dataset;
	const cJSON		*v;
	cJSON			*arr, *c;
	char			*s, *out = NULL;
	size_t			 i;
	int			 ok = 1;

	arr = cJSON_CreateArray();
	for (i = 0; i < ds->n && ok; i++) {
		if ((v = example_field(&ds->ex[i], t->target)) == NULL)
			continue;
		s = json_text(v);
		cJSON_ArrayForEach(c, arr)
			if (strcmp(c->valuestring, s) == 0)
				break;
		if (c == NULL) {
			ok = *s != '\0' && strlen(s) <= SYNTH_CHOICE_BYTES &&
			    strchr(s, '\n') == NULL &&
			    cJSON_GetArraySize(arr) < SYNTH_CHOICES;
			cJSON_AddItemToArray(arr, cJSON_CreateString(s));
		}
		free(s);
	}
	if (ok && cJSON_GetArraySize(arr) >= 2)
		out = cJSON_PrintUnformatted(arr);
	cJSON_Delete(arr);
	return out;
}

/* "positive, negative": the known answers as a list. */
static char *
synth_choices_text(const char *choices)
{
	struct strbuf	 sb;
	const cJSON	*c;
	cJSON		*arr;

	if (choices == NULL || (arr = cJSON_Parse(choices)) == NULL)
		return xstrdup("");
	strbuf_init(&sb);
	strbuf_adds(&sb, "The answers the task has: ");
	cJSON_ArrayForEach(c, arr)
		if (cJSON_IsString(c))
			strbuf_addf(&sb, "%s%s", c != arr->child ? ", " : "",
			    c->valuestring);
	strbuf_adds(&sb, ".\n");
	cJSON_Delete(arr);
	return strbuf_detach(&sb);
}

/* The inputs of an example as the generator writes them. */
static char *
synth_example_inputs(const struct synth *sy, const struct example *ex)
{
	const cJSON	*v;
	cJSON		*o;
	char		*s;
	size_t		 i;

	if (sy->nfields == 1) {
		v = example_field(ex, sy->fields[0]);
		return v != NULL ? json_text(v) : xstrdup("");
	}
	o = cJSON_CreateObject();
	for (i = 0; i < sy->nfields; i++)
		if ((v = example_field(ex, sy->fields[i])) != NULL)
			cJSON_AddItemToObject(o, sy->fields[i],
			    cJSON_Duplicate(v, 1));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/*
 * Up to SYNTH_SHOWN train and dev examples, drawn with the run's stream
 * (test examples are never shown): the generator's block (*gen) and the
 * labeler's (*lab, the first SYNTH_LABEL_SHOWN of them, as the task
 * shows them).
 */
static void
synth_draw(struct synth *sy, struct rng *rng, char **gen, char **lab)
{
	const struct task	*t = &sy->jr->job->task;
	const struct dataset	*ds = t->dataset;
	struct strbuf		 g, l;
	size_t			*pick, n = 0, i, k, tmp;
	char			*in, *out;

	pick = xcalloc(ds->n + 1, sizeof *pick);
	for (i = 0; i < ds->n; i++)
		if (ds->ex[i].split != SPLIT_TEST &&
		    ds->ex[i].fields->child != NULL)
			pick[n++] = i;
	strbuf_init(&g);
	strbuf_init(&l);
	for (i = 0; i < n && i < SYNTH_SHOWN; i++) {
		k = i + rng_below(rng, (uint32_t)(n - i));
		tmp = pick[i];
		pick[i] = pick[k];
		pick[k] = tmp;
		in = synth_example_inputs(sy, &ds->ex[pick[i]]);
		out = json_text(example_field(&ds->ex[pick[i]], t->target));
		strbuf_addf(&g, "<example>\n<input>%s</input>\n<answer>%s"
		    "</answer>\n</example>\n", in, out);
		free(in);
		if (i < SYNTH_LABEL_SHOWN) {
			in = template_render(t->tmpl, &ds->ex[pick[i]], NULL);
			strbuf_addf(&l, "%s<example>\nInput: %s\nAnswer: %s\n"
			    "</example>\n", i == 0 ? "Examples of the task "
			    "with their correct answers:\n" : "", in, out);
			free(in);
		}
		free(out);
	}
	free(pick);
	*gen = g.len > 0 ? strbuf_detach(&g) : xstrdup("(none yet)\n");
	*lab = l.len > 0 ? strbuf_detach(&l) : xstrdup("");
}

/*
 * The prompt the round is written against: the champion's, else the
 * first seed's (allocated); *what says which.
 */
static char *
synth_prompt(struct synth *sy, char **what, char **cause)
{
	struct jobrun	*jr = sy->jr;
	struct champion	 ch;
	char		*text;
	int		 rc;

	if ((rc = store_champion_latest(jr->store, jr->job_id, &ch,
	    cause)) < 0)
		return NULL;
	if (rc == 1) {
		if ((text = store_candidate_text(jr->store, ch.candidate,
		    cause)) == NULL)
			return NULL;
		*what = xasprintf("champion version %d", ch.version);
		return text;
	}
	*what = xstrdup("the first seed prompt");
	return xstrdup(jr->job->seeds[0]);
}

/* The inputs of earlier rounds, the latest last, as <input> elements. */
static int
synth_previous(struct synth *sy, char **out, size_t *rounds, char **cause)
{
	struct jobrun		*jr = sy->jr;
	struct synthetic_row	*rows;
	struct strbuf		 sb;
	cJSON			*o;
	char			*text;
	int64_t			 last = 0;
	size_t			 n, i;

	if (store_synthetic_list(jr->store, jr->job_id, 0, NULL, -1, &rows,
	    &n, cause) != 0)
		return -1;
	strbuf_init(&sb);
	*rounds = 0;
	for (i = 0; i < n; i++) {
		if (rows[i].run == jr->run_id)
			continue;
		if (rows[i].run != last)
			(*rounds)++;
		last = rows[i].run;
		if (i + SYNTH_PREVIOUS < n)
			continue;
		if (sb.len == 0)
			strbuf_adds(&sb, "Inputs written before (write none of "
			    "these again):\n<previous>\n");
		o = cJSON_Parse(rows[i].inputs);
		text = sy->nfields == 1 ? json_text(
		    cJSON_GetObjectItemCaseSensitive(o, sy->fields[0])) :
		    xstrdup(rows[i].inputs);
		strbuf_addf(&sb, "<input>%s</input>\n", text);
		free(text);
		cJSON_Delete(o);
	}
	store_synthetic_rows_free(rows, n);
	if (sb.len > 0)
		strbuf_adds(&sb, "</previous>\n");
	*out = sb.len > 0 ? strbuf_detach(&sb) : xstrdup("");
	return 0;
}

/* Whether row id was written earlier in the round. */
static int
synth_has_row(const struct synth *sy, int64_t id)
{
	size_t	i;

	for (i = 0; i < sy->nrows; i++)
		if (sy->rows[i] == id)
			return 1;
	return 0;
}

/* What the generator is told of the shape of an input. */
static char *
synth_format(const struct synth *sy)
{
	struct strbuf	sb;
	size_t		i;

	if (sy->nfields == 1)
		return xasprintf("Each input is the value of the task's field "
		    "\"%s\" alone, as in the examples.", sy->fields[0]);
	strbuf_init(&sb);
	strbuf_adds(&sb, "Each input is a JSON object with a value for each "
	    "of the task's fields (");
	for (i = 0; i < sy->nfields; i++)
		strbuf_addf(&sb, "%s\"%s\"", i > 0 ? ", " : "", sy->fields[i]);
	strbuf_adds(&sb, "), as in the examples.");
	return strbuf_detach(&sb);
}

/*
 * Asks the optimizer for the round's inputs and stores each usable one
 * as a pending row of the run, in its split (train or dev by the hash of
 * its inputs, in the proportions of the job's train and dev).
 */
static int
synth_generate(struct synth *sy, const char *prompt, const char *examples,
    const char *previous, char **cause)
{
	struct jobrun		*jr = sy->jr;
	const struct task	*t = &jr->job->task;
	struct synthetic_record	 rec;
	struct search_ask	 a;
	struct meta_var		 v[6];
	struct example		 ex;
	const char		*why;
	char			**parts, *n, *format, *inputs, *input;
	char			 key[65];
	cJSON			*o;
	int64_t			 run, rc64;
	int			 np = 0, i, rc = -1;

	n = xasprintf("%lld", jr->job->synthetic.examples);
	format = synth_format(sy);
	v[0].name = "description";
	v[0].value = t->description != NULL ? t->description : "(no "
	    "description: infer the task from the prompt and the examples)";
	v[1].name = "prompt";
	v[1].value = prompt;
	v[2].name = "examples";
	v[2].value = examples;
	v[3].name = "previous";
	v[3].value = previous;
	v[4].name = "format";
	v[4].value = format;
	v[5].name = "n";
	v[5].value = n;
	memset(&a, 0, sizeof a);
	a.name = "synth_generate";
	a.vars = v;
	a.nvars = nitems(v);
	a.temperature = SYNTH_TEMPERATURE;
	a.tag = "input";
	a.max = (size_t)jr->job->synthetic.examples;
	a.role = "generator";
	if (search_ask_many(&jr->search, &a, 1, cause) != 0)
		goto out;
	parts = a.parts;
	np = a.n;
	memset(&rec, 0, sizeof rec);
	rec.job = jr->job_id;
	rec.run = jr->run_id;
	rec.key = key;
	rec.labeler = job_labeler_name(jr->job->synthetic.labeler);
	rec.choices = sy->choices;
	for (i = 0; i < np; i++) {
		sy->written++;
		if ((o = jobrun_synth_inputs(sy->fields, sy->nfields, parts[i],
		    &why)) == NULL || !ingest_inputs_key(t->tmpl, o, key)) {
			log_info("job '%s': synthetic: input %d of %d left "
			    "out: %s", t->name, i + 1, np, o == NULL ? why :
			    "a field of the template is missing");
			cJSON_Delete(o);
			sy->drops[DROP_BAD]++;
			continue;
		}
		if (synth_known(sy, key)) {
			cJSON_Delete(o);
			sy->drops[DROP_COPY]++;
			continue;
		}
		memset(&ex, 0, sizeof ex);
		ex.fields = o;
		input = template_render(t->tmpl, &ex, NULL);
		inputs = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		rec.inputs = inputs;
		rec.input = input;
		rec.split = split_name(split_by_key(key, t->split[0],
		    t->split[1], 0, (uint64_t)t->split_seed));
		rc64 = store_synthetic_add(jr->store, &rec, &run, cause);
		free(inputs);
		free(input);
		if (rc64 < 0)
			goto out;
		if (run != jr->run_id || synth_has_row(sy, rc64)) {
			sy->drops[DROP_REPEAT]++;
			continue;
		}
		sy->rows = xreallocarray(sy->rows, sy->nrows + 1,
		    sizeof *sy->rows);
		sy->rows[sy->nrows++] = rc64;
		sy->added++;
	}
	rc = 0;
out:
	search_ask_release(&a, 1);
	free(format);
	free(n);
	return rc;
}

char *
jobrun_synth_label(const char *choices, const char *label)
{
	const cJSON	*c;
	cJSON		*arr;
	char		*norm, *cn, *out = NULL;

	if (choices == NULL || (arr = cJSON_Parse(choices)) == NULL)
		return xstrdup(label);
	norm = reply_norm(label);
	cJSON_ArrayForEach(c, arr) {
		if (!cJSON_IsString(c))
			continue;
		cn = reply_norm(c->valuestring);
		if (strcmp(cn, norm) == 0 && out == NULL)
			out = xstrdup(c->valuestring);
		free(cn);
	}
	free(norm);
	cJSON_Delete(arr);
	return out != NULL ? out : xstrdup(label);
}

/* Whether label is one of the known answers, as they are spelled. */
static int
synth_is_choice(const char *choices, const char *label)
{
	const cJSON	*c;
	cJSON		*arr;
	int		 found = 0;

	if (choices == NULL || (arr = cJSON_Parse(choices)) == NULL)
		return 0;
	cJSON_ArrayForEach(c, arr)
		if (cJSON_IsString(c) && strcmp(c->valuestring, label) == 0)
			found = 1;
	cJSON_Delete(arr);
	return found;
}

/* Stores what the judge made of one row's request. */
static int
synth_judged(struct synth *sy, const struct synthetic_row *row,
    const struct search_ask *a, char **cause)
{
	const struct backend	*judge = sy->jr->job->task.roles[ROLE_JUDGE];
	enum synth_drop		 d = DROP_UNREADABLE;
	char			*label = NULL;
	int			 rc;

	if (a->n > 0) {
		label = jobrun_synth_label(row->choices, a->parts[0]);
		if (reply_no_answer(label) && !synth_is_choice(row->choices,
		    label)) {
			free(label);
			label = NULL;
			d = DROP_NO_ANSWER;
		}
	} else if (a->outcome == REPLY_REFUSED)
		d = DROP_REFUSED;
	else if (a->outcome < 0)
		d = DROP_NO_REPLY;
	if (label == NULL)
		sy->drops[d]++;
	rc = store_synthetic_answer(sy->jr->store, row->id, label,
	    synth_drop_names[d], judge->name, cause);
	free(label);
	return rc < 0 ? -1 : 0;
}

/* The judge labels the run's pending rows, all asked at once. */
static int
synth_label_judge(struct synth *sy, struct synthetic_row *rows, size_t n,
    char **cause)
{
	const struct task	*t = &sy->jr->job->task;
	struct search_ask	*a;
	struct meta_var		*v;
	char			**answers;
	size_t			 i;
	int			 rc = -1;

	a = xcalloc(n + 1, sizeof *a);
	v = xcalloc(4 * n + 1, sizeof *v);
	answers = xcalloc(n + 1, sizeof *answers);
	for (i = 0; i < n; i++) {
		answers[i] = synth_choices_text(rows[i].choices);
		v[4 * i].name = "description";
		v[4 * i].value = t->description != NULL ? t->description :
		    "(no description: infer it from the examples)";
		v[4 * i + 1].name = "examples";
		v[4 * i + 1].value = sy->shown;
		v[4 * i + 2].name = "input";
		v[4 * i + 2].value = rows[i].input;
		v[4 * i + 3].name = "answers";
		v[4 * i + 3].value = answers[i];
		a[i].name = "synth_label";
		a[i].vars = &v[4 * i];
		a[i].nvars = 4;
		a[i].temperature = 0;
		a[i].judge = 1;
		a[i].answer = 1;
		a[i].max = 1;
		a[i].role = "labeler";
	}
	if (search_ask_many(&sy->jr->search, a, n, cause) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (synth_judged(sy, &rows[i], &a[i], cause) != 0) {
			search_ask_release(a, n);
			goto out;
		}
	search_ask_release(a, n);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(answers[i]);
	free(answers);
	free(v);
	free(a);
	return rc;
}

/* Whether people labeled all the run's rows (1), not yet (0), or -1. */
static int
synth_answered(void *arg, char **cause)
{
	struct synth		*sy = arg;
	struct synthetic_row	*rows;
	size_t			 n;

	if (store_synthetic_list(sy->jr->store, sy->jr->job_id,
	    sy->jr->run_id, "pending", -1, &rows, &n, cause) != 0)
		return -1;
	store_synthetic_rows_free(rows, n);
	sy->jr->synth_waiting = (long long)n;
	return n == 0;
}

/* The run's pending rows get their labels: from the judge, or people. */
static int
synth_label(struct synth *sy, char **cause)
{
	struct jobrun		*jr = sy->jr;
	struct synthetic_row	*rows;
	size_t			 n;
	int			 rc;

	if (store_synthetic_list(jr->store, jr->job_id, jr->run_id, "pending",
	    -1, &rows, &n, cause) != 0)
		return -1;
	if (n > 0 && !synth_people(jr))
		rc = synth_label_judge(sy, rows, n, cause);
	else if (n > 0) {
		jr->synth_waiting = (long long)n;
		jobrun_event(jr, "info", "synthetic: %zu input%s wait%s for "
		    "people's labels (promptctl feedback %s)", n, n == 1 ? "" :
		    "s", n == 1 ? "s" : "", jr->job->task.name);
		rc = search_wait_until(&jr->search, synth_answered, sy, cause);
		jr->synth_waiting = 0;
	} else
		rc = 0;
	store_synthetic_rows_free(rows, n);
	return rc;
}

/* Train and dev examples with something to score. */
static size_t
synth_count(const struct dataset *ds)
{
	size_t	i, n = 0;

	for (i = 0; i < ds->n; i++)
		if (ds->ex[i].split != SPLIT_TEST &&
		    ds->ex[i].fields->child != NULL)
			n++;
	return n;
}

/*
 * "3 skipped, 1 refused by the judge": the reasons of the run's rows
 * left unlabeled, as counted into *n.
 */
static char *
synth_reasons(const struct synthetic_row *rows, size_t n, size_t *dropped)
{
	struct strbuf	 sb;
	size_t		 i, j, k;

	strbuf_init(&sb);
	*dropped = 0;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].status, "dropped") != 0)
			continue;
		(*dropped)++;
		for (j = 0; j < i; j++)
			if (strcmp(rows[j].status, "dropped") == 0 &&
			    strcmp(rows[j].reason, rows[i].reason) == 0)
				break;
		if (j < i)
			continue;
		for (j = i, k = 0; j < n; j++)
			k += strcmp(rows[j].status, "dropped") == 0 &&
			    strcmp(rows[j].reason, rows[i].reason) == 0;
		strbuf_addf(&sb, "%s%zu %s", sb.len > 0 ? ", " : "", k,
		    rows[i].reason);
	}
	return sb.len > 0 ? strbuf_detach(&sb) : xstrdup("");
}

/*
 * The run's labeled rows join its dataset (those not in it already: a
 * replay), in a new snapshot that the run goes on with.
 */
static int
synth_join(struct synth *sy, char **cause)
{
	struct jobrun		*jr = sy->jr;
	struct dataset		*ds = jr->job->task.dataset;
	struct synthetic_row	*rows;
	struct example		*ex;
	size_t			 n, i, count[SPLIT_COUNT] = { 0 }, labeled = 0;
	size_t			 dropped;
	char			*why;
	int64_t			 id;
	int			 rc = -1;

	if (store_synthetic_list(jr->store, jr->job_id, jr->run_id, NULL, -1,
	    &rows, &n, cause) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].status, "labeled") != 0)
			continue;
		labeled++;
		if (!synth_known(sy, rows[i].key) &&
		    (ex = ingest_synthetic_example(ds, &jr->job->task,
		    &rows[i])) != NULL)
			count[ex->split]++;
	}
	why = synth_reasons(rows, n, &dropped);
	if (n > 0)
		jobrun_event(jr, dropped > 0 && labeled == 0 ? "warn" : "info",
		    "synthetic: %zu labeled by %s, %zu not%s%s; %zu train and "
		    "%zu dev examples added, the run has %zu", labeled,
		    synth_people(jr) ? "people" : "the judge", dropped,
		    dropped > 0 ? ": " : "", why, count[SPLIT_TRAIN],
		    count[SPLIT_DEV], synth_count(ds));
	free(why);
	if (count[SPLIT_TRAIN] + count[SPLIT_DEV] > 0) {
		dataset_rehash(ds);
		if ((id = store_dataset_snapshot(jr->store, jr->job_id, ds,
		    &jr->dataset_changed, cause)) < 0 ||
		    store_run_set_dataset(jr->store, jr->run_id, id,
		    cause) != 0)
			goto out;
		jr->dataset_id = id;
	}
	rc = 0;
out:
	store_synthetic_rows_free(rows, n);
	return rc;
}

/* "2 copies an existing example, 1 ...": what generation left out. */
static char *
synth_drops(const struct synth *sy)
{
	struct strbuf	sb;
	int		d;

	strbuf_init(&sb);
	for (d = DROP_BAD; d <= DROP_REPEAT; d++)
		if (sy->drops[d] > 0)
			strbuf_addf(&sb, "%s%zu %s", sb.len > 0 ? ", " : "; "
			    "left out: ", sy->drops[d], synth_drop_names[d]);
	return sb.len > 0 ? strbuf_detach(&sb) : xstrdup("");
}

/* A new round: the optimizer writes the inputs, stored as pending. */
static int
synth_round(struct synth *sy, const char *examples, char **cause)
{
	struct jobrun	*jr = sy->jr;
	char		*prompt, *what = NULL, *previous = NULL, *drops;
	size_t		 rounds = 0;
	int		 rc = -1;

	if (synth_people(jr) && !search_can_wait(&jr->search))
		return cause_set(cause, "synthetic.labeler 'people' needs the "
		    "daemon (submit the job with promptctl submit and label "
		    "with promptctl feedback); use \"judge\" to run it here");
	if ((prompt = synth_prompt(sy, &what, cause)) == NULL)
		return -1;
	if (synth_previous(sy, &previous, &rounds, cause) != 0 ||
	    synth_generate(sy, prompt, examples, previous, cause) != 0)
		goto out;
	drops = synth_drops(sy);
	jobrun_event(jr, sy->added > 0 ? "info" : "warn", "synthetic: round "
	    "%zu against %s: %lld inputs asked for, %zu written, %zu kept%s",
	    rounds + 1, what, jr->job->synthetic.examples, sy->written,
	    sy->added, drops);
	free(drops);
	rc = 0;
out:
	free(prompt);
	free(what);
	free(previous);
	return rc;
}

int
jobrun_synth(struct jobrun *jr, char **cause)
{
	struct synth		 sy;
	struct synthetic_row	*rows;
	struct rng		 rng;
	const struct dataset	*ds = jr->job->task.dataset;
	char			*examples = NULL;
	size_t			 n, have;
	unsigned		 asks = jr->search.asks;
	int			 rc = -1;

	memset(&sy, 0, sizeof sy);
	sy.jr = jr;
	if (store_synthetic_list(jr->store, jr->job_id, jr->run_id, NULL, -1,
	    &rows, &n, cause) != 0)
		return -1;
	store_synthetic_rows_free(rows, n);
	have = synth_count(ds);
	/* A round begun before the run was cut short goes on. */
	if (n == 0 && have >= (size_t)jr->job->synthetic.until) {
		jobrun_event(jr, "info", "synthetic: the job has %zu train and "
		    "dev examples, %lld wanted: no new round", have,
		    jr->job->synthetic.until);
		return 0;
	}
	synth_fields(&sy);
	if (sy.nfields == 0) {
		jobrun_event(jr, "warn", "synthetic: the task's template shows "
		    "no field for new inputs: no round");
		free(sy.fields);
		return 0;
	}
	synth_keys(&sy);
	sy.choices = synth_choices(&sy);
	rng_seed(&rng, (uint64_t)jr->job->task.seed,
	    hash_mix(SYNTH_STREAM, (uint64_t)jr->run_id));
	synth_draw(&sy, &rng, &examples, &sy.shown);
	if (n == 0 && engine_check(jr->engine) == ENGINE_OK &&
	    synth_round(&sy, examples, cause) != 0)
		goto out;
	if (synth_label(&sy, cause) != 0 || synth_join(&sy, cause) != 0)
		goto out;
	rc = 0;
out:
	/* The strategy's requests are numbered as if no round came first. */
	jr->search.asks = asks;
	free(examples);
	free(sy.fields);
	free(sy.keys);
	free(sy.rows);
	free(sy.choices);
	free(sy.shown);
	return rc;
}
