/* Metrics: the table of types, configuration, extraction and scoring. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "jsonc.h"
#include "metric.h"
#include "strbuf.h"
#include "util.h"
#include "xmalloc.h"

/* How many bytes of an output feedback quotes before cutting it short. */
#define METRIC_QUOTE_MAX	80

const struct metric_ops *const metric_table[] = {
	&metric_exact_ops,
	&metric_contains_ops,
	&metric_regex_ops,
	&metric_f1_ops,
	&metric_set_ops,
	&metric_number_ops,
	&metric_json_ops,
	&metric_judge_ops,
	&metric_learned_ops,
	NULL
};

const struct metric_ops *
metric_lookup(const char *name)
{
	size_t	i;

	if (name == NULL)
		return NULL;
	for (i = 0; metric_table[i] != NULL; i++) {
		if (strcmp(metric_table[i]->name, name) == 0)
			return metric_table[i];
	}
	return NULL;
}

void *
metric_regex_new(const char *pattern, size_t len, unsigned int flags,
    size_t *erroff, char **cause)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[256];
	PCRE2_SIZE	 off;
	int		 error;
	uint32_t	 opts = PCRE2_UTF | flags;

#ifdef PCRE2_MATCH_INVALID_UTF
	/* Model output is not always valid UTF-8: match it anyway. */
	opts |= PCRE2_MATCH_INVALID_UTF;
#endif
	re = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &error, &off, NULL);
	if (re != NULL)
		return re;
	if (pcre2_get_error_message(error, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", error);
	*erroff = off;
	cause_set(cause, "%s", (char *)msg);
	return NULL;
}

char *
metric_quote(const char *s)
{
	struct strbuf	sb;
	size_t		len, n, i;

	if (s == NULL)
		return xstrdup("");
	len = strlen(s);
	n = len;
	if (n > METRIC_QUOTE_MAX) {
		/* Back off to the first byte of a character. */
		n = METRIC_QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	strbuf_init(&sb);
	for (i = 0; i < n; i++) {
		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			strbuf_addc(&sb, ' ');
		else
			strbuf_addc(&sb, s[i]);
	}
	if (n < len)
		strbuf_adds(&sb, "...");
	return strbuf_detach(&sb);
}

/* Reports an unknown type name at node, suggesting and listing the types. */
static void
metric_unknown_type(struct jdoc *doc, const cJSON *node, const char *path,
    const char *name)
{
	const char	*names[nitems(metric_table)];
	const char	*near;
	struct strbuf	 sb;
	size_t		 i;

	strbuf_init(&sb);
	for (i = 0; metric_table[i] != NULL; i++) {
		names[i] = metric_table[i]->name;
		strbuf_addf(&sb, "%s%s", i == 0 ? "" : ", ", names[i]);
	}
	names[i] = NULL;
	if ((near = suggest(name, names)) != NULL)
		jv_error(doc, node, path, "unknown metric type '%s' (did you "
		    "mean '%s'?); the types are %s", name, near, sb.buf);
	else
		jv_error(doc, node, path, "unknown metric type '%s'; the types "
		    "are %s", name, sb.buf);
	strbuf_release(&sb);
}

/* Checks conf's keys against "type", "extract" and the type's own. */
static void
metric_check_keys(struct jdoc *doc, const cJSON *conf, const char *path,
    const struct metric_ops *ops)
{
	const char	**allowed;
	size_t		  n = 0, i;

	if (ops->keys != NULL) {
		while (ops->keys[n] != NULL)
			n++;
	}
	allowed = xcalloc(n + 3, sizeof *allowed);
	allowed[0] = "type";
	allowed[1] = "extract";
	for (i = 0; i < n; i++)
		allowed[i + 2] = ops->keys[i];
	allowed[n + 2] = NULL;
	jv_keys(doc, conf, path, allowed);
	free(allowed);
}

/* Compiles the "extract" pattern of conf, if it has one. */
static void
metric_init_extract(struct metric *m, struct jdoc *doc, const cJSON *conf,
    const char *path)
{
	const cJSON	*node;
	const char	*src;
	char		*p, *msg = NULL;
	size_t		 off;

	if (jv_string(doc, conf, path, "extract", 0, &src) != 1)
		return;
	node = cJSON_GetObjectItemCaseSensitive(conf, "extract");
	m->extract = metric_regex_new(src, strlen(src), 0, &off, &msg);
	if (m->extract == NULL) {
		p = jv_path(path, "extract");
		jv_error(doc, node, p, "invalid regex at offset %zu: %s", off,
		    msg);
		free(p);
		free(msg);
		return;
	}
	m->extract_src = xstrdup(src);
}

struct metric *
metric_new(struct jdoc *doc, const cJSON *conf, const char *path)
{
	const struct metric_ops	*ops;
	struct metric		*m;
	const cJSON		*tnode;
	const char		*type;
	size_t			 nerrors = doc->nerrors;
	char			*p;

	if (conf == NULL) {
		jv_error(doc, NULL, path, "missing (required)");
		return NULL;
	}
	if (cJSON_IsString(conf)) {
		type = conf->valuestring;
		tnode = conf;
		p = xstrdup(path != NULL ? path : "");
	} else if (cJSON_IsObject(conf)) {
		if (jv_string(doc, conf, path, "type", 1, &type) != 1)
			return NULL;
		tnode = cJSON_GetObjectItemCaseSensitive(conf, "type");
		p = jv_path(path, "type");
	} else {
		jv_error(doc, conf, path, "expected a string or an object");
		return NULL;
	}
	if ((ops = metric_lookup(type)) == NULL) {
		metric_unknown_type(doc, tnode, p, type);
		free(p);
		return NULL;
	}
	free(p);

	m = xcalloc(1, sizeof *m);
	m->ops = ops;
	if (cJSON_IsObject(conf)) {
		metric_check_keys(doc, conf, path, ops);
		metric_init_extract(m, doc, conf, path);
	}
	if (ops->init != NULL)
		ops->init(m, doc, conf, path);
	if (doc->nerrors > nerrors) {
		metric_free(m);
		return NULL;
	}
	return m;
}

void
metric_free(struct metric *m)
{
	if (m == NULL)
		return;
	if (m->ops != NULL && m->ops->free != NULL)
		m->ops->free(m);
	pcre2_code_free(m->extract);
	free(m->extract_src);
	free(m);
}

char *
metric_extract(const struct metric *m, const char *output)
{
	pcre2_match_data	*md;
	PCRE2_UCHAR		*sub;
	PCRE2_SIZE		 len, *ov;
	char			*answer = NULL;
	int			 rc;

	if (output == NULL)
		output = "";
	if (m->extract == NULL)
		return xstrdup(output);
	md = pcre2_match_data_create_from_pattern(m->extract, NULL);
	if (md == NULL)
		return NULL;
	rc = pcre2_match(m->extract, (PCRE2_SPTR)output, strlen(output), 0, 0,
	    md, NULL);
	if (rc < 0)
		goto out;
	/* The group named "answer" if the pattern has one, else it all. */
	rc = pcre2_substring_get_byname(md, (PCRE2_SPTR)"answer", &sub, &len);
	if (rc == 0) {
		answer = xstrndup((char *)sub, len);
		pcre2_substring_free(sub);
	} else if (rc == PCRE2_ERROR_NOSUBSTRING) {
		ov = pcre2_get_ovector_pointer(md);
		if (ov[1] >= ov[0])
			answer = xstrndup(output + ov[0], ov[1] - ov[0]);
	}
	/* Otherwise the group exists but did not take part: no answer. */
out:
	pcre2_match_data_free(md);
	return answer;
}

int
metric_needs_target(const struct metric *m)
{
	return m->ops->score != NULL && !m->ops->no_target;
}

int
metric_needs_feedback(const struct metric *m)
{
	return m->ops->prepare != NULL;
}

int
metric_prepare(struct metric *m, const struct interaction_row *rows,
    size_t n, uint64_t seed, char **report, char **cause)
{
	*report = NULL;
	if (m->ops->prepare == NULL)
		return 0;
	return m->ops->prepare(m, rows, n, seed, report, cause);
}

double
metric_score(const struct metric *m, const char *output,
    const cJSON *expected, char **feedback)
{
	char	*answer;
	double	 score;

	if (feedback != NULL)
		*feedback = NULL;
	if (m->ops->score == NULL) {
		if (feedback != NULL)
			*feedback = xasprintf("the %s metric needs a judge "
			    "model to score an output", m->ops->name);
		return 0;
	}
	if ((answer = metric_extract(m, output)) == NULL) {
		if (feedback != NULL)
			*feedback = xstrdup("no answer found: the output did "
			    "not match the extraction pattern");
		return 0;
	}
	score = m->ops->score(m, answer, expected, feedback);
	free(answer);
	if (!(score >= 0))
		score = 0;
	else if (score > 1)
		score = 1;
	return score;
}
