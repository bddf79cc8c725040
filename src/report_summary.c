/*
 * The report's first and last sections: the summary (the task, the
 * strategy, the models, the budget used against its limits, the champion
 * and the evidence that promoted it) and the history of champion
 * versions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "report_int.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/* <dt>term</dt><dd>, left open for the value. */
static void
fact(struct report *r, const char *term)
{
	strbuf_adds(r->out, "<dt>");
	report_text(r, term);
	strbuf_adds(r->out, "</dt><dd>");
}

/* A JSON value written compactly, as code. */
static void
fact_json(struct report *r, const char *term, const cJSON *v)
{
	char	*s;

	if (v == NULL)
		return;
	fact(r, term);
	s = cJSON_PrintUnformatted(v);
	strbuf_adds(r->out, "<code>");
	report_text(r, s);
	strbuf_adds(r->out, "</code></dd>\n");
	free(s);
}

/* NULL as "". */
static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * Which backend and model each role used in the run, from its calls: a
 * handful of distinct triples, each counted in one pass.
 */
static void
summary_models(struct report *r)
{
	struct triple {
		const char	*role, *backend, *model;
		size_t		 n;
	}		*t = NULL;
	size_t		 nt = 0, i, k;

	for (i = 0; i < r->ncalls; i++) {
		const struct call_row	*c = &r->calls[i];

		for (k = 0; k < nt; k++)
			if (strcmp(t[k].role, nz(c->role)) == 0 &&
			    strcmp(t[k].backend, nz(c->backend)) == 0 &&
			    strcmp(t[k].model, nz(c->model)) == 0)
				break;
		if (k == nt) {
			t = xreallocarray(t, nt + 1, sizeof *t);
			t[nt].role = nz(c->role);
			t[nt].backend = nz(c->backend);
			t[nt].model = nz(c->model);
			t[nt++].n = 0;
		}
		t[k].n++;
	}
	fact(r, "Models");
	for (k = 0; k < nt; k++) {
		if (k > 0)
			strbuf_adds(r->out, "<br>");
		report_textf(r, "%s: %s (backend %s), %zu call record%s", t[k].role,
		    t[k].model, t[k].backend, t[k].n, t[k].n == 1 ? "" : "s");
	}
	if (nt == 0)
		report_text(r, "no calls made");
	strbuf_adds(r->out, "</dd>\n");
	free(t);
}

/* One row of the budget: what was used against its limit. */
static void
budget_row(struct report *r, const char *what, double used, int decimals,
    double limit)
{
	char	u[64], l[64];
	double	share;

	snprintf(u, sizeof u, "%.*f", decimals, used);
	if (isfinite(limit) && limit > 0)
		snprintf(l, sizeof l, "%.*f", decimals, limit);
	else
		snprintf(l, sizeof l, "none");
	strbuf_adds(r->out, "<tr><td>");
	report_text(r, what);
	strbuf_adds(r->out, "</td><td class=\"num\">");
	report_text(r, u);
	strbuf_adds(r->out, "</td><td class=\"num\">");
	report_text(r, l);
	strbuf_adds(r->out, "</td><td>");
	if (isfinite(limit) && limit > 0) {
		share = used / limit;
		if (share > 1)
			share = 1;
		strbuf_addf(r->out, "<meter min=\"0\" max=\"1\" "
		    "value=\"%.3f\">%.0f%%</meter> %.0f%%", share,
		    used / limit * 100, used / limit * 100);
	}
	strbuf_adds(r->out, "</td></tr>\n");
}

static void
summary_budget(struct report *r)
{
	static const char *const head[] = { "", "#used", "#limit", "share" };
	const cJSON	*b;
	const char	*deadline;
	double		 limit = NAN, elapsed;

	b = cJSON_GetObjectItemCaseSensitive(r->spec,
	    strcmp(r->run.kind, "refresh") == 0 &&
	    cJSON_HasObjectItem(r->spec, "refresh_budget") ?
	    "refresh_budget" : "budget");
	strbuf_adds(r->out, "<h3>Budget</h3>\n");
	report_table_open(r, "budget", head, nitems(head));
	budget_row(r, "paid calls", (double)r->run.totals.calls, 0,
	    json_num(b, "max_calls"));
	budget_row(r, "tokens", (double)r->run.totals.tokens, 0,
	    json_num(b, "max_tokens"));
	budget_row(r, "dollars", r->run.totals.dollars, 4,
	    json_num(b, "max_dollars"));
	elapsed = (isfinite(r->run.ended) ? r->run.ended : r->now) -
	    r->run.started;
	if ((deadline = json_str(b, "deadline", NULL)) != NULL)
		duration_parse(deadline, &limit);
	else
		limit = json_num(b, "deadline");
	budget_row(r, "seconds", elapsed, 1, limit);
	budget_row(r, "cache hits", (double)r->run.totals.hits, 0, NAN);
	report_table_close(r);
}

/* The latest champion version of the history, or NULL. */
static const cJSON *
latest_champion(struct report *r)
{
	const cJSON	*h;
	int		 n;

	h = cJSON_GetObjectItemCaseSensitive(r->history, "champions");
	if ((n = cJSON_GetArraySize(h)) == 0)
		return NULL;
	return cJSON_GetArrayItem(h, n - 1);
}

/*
 * The paired test, the risk bound (when the job sets "risk") and the
 * test split's score behind a champion.
 */
static void
champion_evidence(struct report *r, const cJSON *ch)
{
	const cJSON	*test = cJSON_GetObjectItemCaseSensitive(ch, "test");
	const cJSON	*risk = cJSON_GetObjectItemCaseSensitive(ch, "risk");
	char		 buf[96];

	fact(r, "Evidence");
	report_text(r, json_str(ch, "reason", NULL));
	if (isfinite(json_num(ch, "p")))
		report_textf(r, " (paired test over %.0f examples: delta "
		    "%+.3f, p = %.3g)", json_num(ch, "paired"),
		    json_num(ch, "delta"), json_num(ch, "p"));
	strbuf_adds(r->out, "</dd>\n");
	if (cJSON_IsObject(risk)) {
		fact(r, "Risk");
		report_textf(r, "upper bound %.3f, at most %.3f allowed (%s)",
		    json_num(risk, "bound"), json_num(risk, "max"),
		    json_str(risk, "text", NULL));
		strbuf_adds(r->out, "</dd>\n");
	}
	fact(r, "On test");
	if (test != NULL)
		report_textf(r, "%s over %.0f held-out examples",
		    report_score(json_num(test, "score"),
		    json_num(test, "lo"), json_num(test, "hi"), buf,
		    sizeof buf), json_num(test, "n"));
	else
		report_text(r, "not scored (no test split, or not yet)");
	strbuf_adds(r->out, "</dd>\n");
}

static void
summary_champion(struct report *r)
{
	const cJSON	*ch = latest_champion(r);
	char		 buf[96], when[64];

	strbuf_adds(r->out, "<h3>Champion</h3>\n");
	if (ch == NULL) {
		report_none(r, "No champion yet: nothing has been promoted.");
		return;
	}
	strbuf_adds(r->out, "<dl class=\"facts\">\n");
	fact(r, "Version");
	report_textf(r, "v%.0f, candidate %.0f, promoted %s",
	    json_num(ch, "version"), json_num(ch, "candidate"),
	    report_time(json_num(ch, "time"), when, sizeof when));
	strbuf_adds(r->out, "</dd>\n");
	fact(r, "On dev");
	report_text(r, report_score(json_num(ch, "score"),
	    json_num(ch, "lo"), json_num(ch, "hi"), buf, sizeof buf));
	report_text(r, " (mean, 95% interval)");
	strbuf_adds(r->out, "</dd>\n");
	champion_evidence(r, ch);
	strbuf_adds(r->out, "</dl>\n<div class=\"prompt\">");
	report_text(r, json_str(ch, "text", NULL));
	strbuf_adds(r->out, "</div>\n");
}

static void
summary_run(struct report *r)
{
	char	a[64], b[64];

	fact(r, "Run");
	if (r->run.id == 0) {
		report_text(r, "none yet");
		strbuf_adds(r->out, "</dd>\n");
		return;
	}
	report_textf(r, "run %lld (%s), %s, step %d; started %s",
	    (long long)r->run.id, r->run.kind, r->run.status, r->run.step,
	    report_time(r->run.started, a, sizeof a));
	if (isfinite(r->run.ended))
		report_textf(r, ", ended %s",
		    report_time(r->run.ended, b, sizeof b));
	strbuf_adds(r->out, "</dd>\n");
}

/* What people made of the deployed prompts' answers, when anything. */
static int
summary_feedback(struct report *r, char **cause)
{
	struct interaction_tally	t;

	if (store_interaction_tally(r->store, r->job.id, r->dataset, &t,
	    cause) != 0)
		return -1;
	if (t.n == 0 && !cJSON_HasObjectItem(r->spec, "feedback"))
		return 0;
	fact(r, "Feedback");
	report_textf(r, "%lld interaction%s from production: %lld rated (%lld "
	    "the best), %lld edited, %lld critiqued, %lld with a preference; "
	    "%lld example%s of this run's data came from them", t.n,
	    t.n == 1 ? "" : "s", t.rated, t.rated_best, t.edited, t.critiqued,
	    t.preferences, t.examples, t.examples == 1 ? "" : "s");
	strbuf_adds(r->out, "</dd>\n");
	return 0;
}

int
report_summary(struct report *r, char **cause)
{
	const cJSON	*task, *v;

	task = cJSON_GetObjectItemCaseSensitive(r->spec, "task");
	strbuf_adds(r->out, "<dl class=\"facts\">\n");
	fact(r, "State");
	report_text(r, r->job.state);
	if (r->job.reason != NULL)
		report_textf(r, ": %s", r->job.reason);
	strbuf_adds(r->out, "</dd>\n");
	if ((v = cJSON_GetObjectItemCaseSensitive(task, "input")) != NULL &&
	    cJSON_IsString(v)) {
		fact(r, "Input");
		strbuf_adds(r->out, "<div class=\"prompt\">");
		report_text(r, v->valuestring);
		strbuf_adds(r->out, "</div></dd>\n");
	}
	fact_json(r, "Target", cJSON_GetObjectItemCaseSensitive(task,
	    "target"));
	fact_json(r, "Metric", cJSON_GetObjectItemCaseSensitive(task,
	    "metric"));
	fact_json(r, "Strategy", cJSON_GetObjectItemCaseSensitive(r->spec,
	    "strategy"));
	summary_run(r);
	summary_models(r);
	if (summary_feedback(r, cause) != 0)
		return -1;
	strbuf_adds(r->out, "</dl>\n");
	if (r->run.id > 0)
		summary_budget(r);
	summary_champion(r);
	return 0;
}

/* The champion's score over the versions, as steps with their bands. */
static void
history_plot(struct report *r, const cJSON *h, int n)
{
	struct plot	 p;
	double		*x, *y, *lo, *hi, t0, ymin = INFINITY, ymax = -INFINITY;
	const cJSON	*ch;
	char		 label[64];
	int		 i;

	x = xcalloc((size_t)n + 1, sizeof *x);
	y = xcalloc((size_t)n + 1, sizeof *y);
	lo = xcalloc((size_t)n + 1, sizeof *lo);
	hi = xcalloc((size_t)n + 1, sizeof *hi);
	t0 = json_num(cJSON_GetArrayItem(h, 0), "time");
	for (i = 0; i < n; i++) {
		ch = cJSON_GetArrayItem(h, i);
		x[i] = (json_num(ch, "time") - t0) / 86400;
		y[i] = json_num(ch, "score");
		lo[i] = json_num(ch, "lo");
		hi[i] = json_num(ch, "hi");
		ymin = fmin(ymin, isfinite(lo[i]) ? lo[i] : y[i]);
		ymax = fmax(ymax, isfinite(hi[i]) ? hi[i] : y[i]);
	}
	/* The last version holds until now. */
	x[n] = (r->now - t0) / 86400;
	y[n] = y[n - 1];
	lo[n] = lo[n - 1];
	hi[n] = hi[n - 1];
	plot_begin(&p, r->out, 720, 220, "champion score by version over "
	    "time", 0, x[n], ymin, ymax);
	plot_axes(&p, "days since version 1", "dev score");
	plot_band(&p, x, lo, hi, (size_t)n + 1, "champion");
	plot_step(&p, x, y, (size_t)n + 1, "champion");
	for (i = 0; i < n; i++) {
		snprintf(label, sizeof label, "v%d", i + 1);
		plot_point(&p, x[i], y[i], 4, "c0", label);
	}
	plot_end(&p);
	free(x);
	free(y);
	free(lo);
	free(hi);
}

int
report_history(struct report *r, char **cause)
{
	static const char *const head[] = {
		"#version", "promoted", "#run", "#candidate", "#dev", "#test",
		"why"
	};
	const cJSON	*h, *ch, *test;
	char		 buf[96], when[64];
	int		 n, i;

	(void)cause;
	h = cJSON_GetObjectItemCaseSensitive(r->history, "champions");
	if ((n = cJSON_GetArraySize(h)) == 0) {
		report_none(r, "No champion has been promoted yet.");
		return 0;
	}
	for (i = 0; i < n; i++)
		if (isfinite(json_num(cJSON_GetArrayItem(h, i), "score")))
			break;
	if (i < n)
		history_plot(r, h, n);
	else
		report_none(r, "No champion version has a dev score to plot "
		    "(promoted before there were dev examples).");
	report_table_open(r, "history", head, nitems(head));
	for (i = n - 1; i >= 0; i--) {
		ch = cJSON_GetArrayItem(h, i);
		test = cJSON_GetObjectItemCaseSensitive(ch, "test");
		strbuf_addf(r->out, "<tr><td class=\"num\">v%.0f</td><td>",
		    json_num(ch, "version"));
		report_text(r, report_time(json_num(ch, "time"), when,
		    sizeof when));
		strbuf_adds(r->out, "</td><td class=\"num\">");
		if (isfinite(json_num(ch, "run")))
			report_textf(r, "%.0f (%s)", json_num(ch, "run"),
			    report_run_kind(r, (int64_t)json_num(ch, "run")));
		strbuf_addf(r->out, "</td><td class=\"num\">%.0f</td>"
		    "<td class=\"num\">", json_num(ch, "candidate"));
		report_text(r, report_score(json_num(ch, "score"),
		    json_num(ch, "lo"), json_num(ch, "hi"), buf,
		    sizeof buf));
		strbuf_adds(r->out, "</td><td class=\"num\">");
		report_text(r, report_score(json_num(test, "score"), NAN,
		    NAN, buf, sizeof buf));
		strbuf_adds(r->out, "</td><td>");
		report_text(r, json_str(ch, "reason", NULL));
		strbuf_adds(r->out, "</td></tr>\n");
	}
	report_table_close(r);
	return 0;
}
