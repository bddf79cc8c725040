/*
 * The report's page: what every section reads, loaded once; the page's
 * head and style sheet; the summary and history sections; and writing
 * the file.  The other sections are in report_*.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hash.h"
#include "jobrun.h"
#include "jsonc.h"
#include "log.h"
#include "query.h"
#include "report.h"
#include "report_int.h"
#include "svg.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The style sheet.  The palette c0..c7 colours operators and origins in
 * every plot and table alike; right, partial, wrong and failed colour
 * results (a heat map's cells and its legend's keys alike).
 */
static const char report_css[] =
	":root{--fg:#1d232b;--muted:#5b6673;--line:#d5dbe1;--bg:#fff;"
	"--soft:#f4f6f8;--accent:#2f6fdb}\n"
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;"
	"padding:24px}\n"
	"h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:0 0 10px;"
	"border-bottom:2px solid var(--line);padding-bottom:4px}\n"
	"h3{font-size:16px;margin:16px 0 6px}\n"
	"section{margin:28px 0}p{margin:6px 0}.note,.sub{color:var(--muted)}\n"
	"nav a{margin-right:12px;color:var(--accent);text-decoration:none}\n"
	"table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}\n"
	"th,td{border-bottom:1px solid var(--line);padding:4px 8px;"
	"text-align:left;vertical-align:top}\n"
	"th{background:var(--soft);font-weight:600}td.num,th.num{text-align:"
	"right;white-space:nowrap;font-variant-numeric:tabular-nums}\n"
	"tr.champion td{background:#eef5ff}\n"
	".prompt{white-space:pre-wrap;font-family:ui-monospace,monospace;"
	"font-size:13px;background:var(--soft);padding:8px;border-radius:4px;"
	"margin:4px 0;overflow-wrap:anywhere}\n"
	"td .prompt{margin:0}\n"
	"ins{background:#d8f5dd;text-decoration:none}del{background:#fbe0e0}\n"
	"dl.facts{display:grid;grid-template-columns:max-content 1fr;"
	"gap:4px 16px;margin:8px 0}dl.facts dt{color:var(--muted)}"
	"dl.facts dd{margin:0}\n"
	"meter{width:160px;margin-right:8px;vertical-align:middle}\n"
	"svg{max-width:100%;height:auto;display:block;margin:8px 0}\n"
	"svg text{font:11px system-ui,sans-serif;fill:var(--fg)}\n"
	"svg .tick,svg .rule-label{fill:var(--muted)}"
	"svg .axis-title{font-size:12px}\n"
	"svg .grid{stroke:#eceff2;fill:none}svg .axis{stroke:#8a949e;"
	"fill:none}\n"
	"svg .line{fill:none;stroke-width:2}svg .band{stroke:none;"
	"opacity:.18}\n"
	"svg .best{stroke:#1d232b}svg .band.best{fill:#1d232b}"
	"svg .champion{stroke:#2f6fdb;stroke-dasharray:5 3}"
	"svg .band.champion{fill:#2f6fdb}\n"
	"svg .rule{stroke:#2f6fdb;stroke-width:1}\n"
	"svg .pt{stroke:#fff;stroke-width:.8}\n"
	"svg .edge{fill:none;stroke:#9aa4ae}svg .node rect{stroke:#5b6673;"
	"fill:#fff}svg .node.champion rect{stroke:#2f6fdb;stroke-width:2}\n"
	"svg rect.right{fill:#5cb87a}svg rect.wrong{fill:#e0675f}"
	"svg rect.failed{fill:#9aa4ae}svg rect.partial{fill:#f0c05a}\n"
	"svg .duel-node rect{stroke:#5b6673;fill:#fff}"
	"svg .duel-node.recommended rect{stroke:#2f6fdb;stroke-width:2}"
	"svg .duel-edge{fill:none;stroke:#7d8893}"
	"svg .duel-head{fill:#7d8893;stroke:none}\n"
	"svg rect.bar{fill:var(--accent)}svg rect.bar.error{fill:#e0675f}\n"
	".c0{fill:#4e79a7;stroke:#4e79a7}.c1{fill:#f28e2b;stroke:#f28e2b}"
	".c2{fill:#59a14f;stroke:#59a14f}.c3{fill:#b07aa1;stroke:#b07aa1}"
	".c4{fill:#e15759;stroke:#e15759}.c5{fill:#76b7b2;stroke:#76b7b2}"
	".c6{fill:#edc948;stroke:#edc948}.c7{fill:#9c755f;stroke:#9c755f}\n"
	"span.sw{margin-right:4px}span.sw.c0{color:#4e79a7}"
	"span.sw.c1{color:#f28e2b}span.sw.c2{color:#59a14f}"
	"span.sw.c3{color:#b07aa1}span.sw.c4{color:#e15759}"
	"span.sw.c5{color:#76b7b2}span.sw.c6{color:#edc948}"
	"span.sw.c7{color:#9c755f}\n"
	"@media print{body{max-width:none;padding:0;font-size:12px}nav{display:"
	"none}section{break-inside:avoid-page}table{font-size:11px}}\n";

static const struct {
	const char	*id;
	const char	*title;
	int		(*fn)(struct report *, char **);
} report_sections[] = {
	{ "summary", "Summary", report_summary },
	{ "progress", "Progress", report_progress },
	{ "leaderboard", "Leaderboard", report_leaderboard },
	{ "lineage", "Lineage", report_lineage },
	{ "failures", "Where prompts fail", report_failures },
	{ "duels", "Duels", report_duels },
	{ "calls", "Calls", report_calls },
	{ "history", "History", report_history },
};

void
report_text(struct report *r, const char *s)
{
	html_escape(r->out, s);
}

/* Appends the format's text escaped. */
static void
report_vtextf(struct report *r, const char *fmt, va_list ap)
{
	char	*s = xvasprintf(fmt, ap);

	html_escape(r->out, s);
	free(s);
}

void
report_textf(struct report *r, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	report_vtextf(r, fmt, ap);
	va_end(ap);
}

void
report_none(struct report *r, const char *fmt, ...)
{
	va_list	ap;

	strbuf_adds(r->out, "<p class=\"note\">");
	va_start(ap, fmt);
	report_vtextf(r, fmt, ap);
	va_end(ap);
	strbuf_adds(r->out, "</p>\n");
}

void
report_table_open(struct report *r, const char *cls,
    const char *const *headers, size_t n)
{
	size_t	i;

	strbuf_adds(r->out, "<table");
	if (cls != NULL)
		strbuf_addf(r->out, " class=\"%s\"", cls);
	strbuf_adds(r->out, "><thead><tr>");
	for (i = 0; i < n; i++) {
		if (headers[i][0] == '#') {
			strbuf_adds(r->out, "<th class=\"num\">");
			html_escape(r->out, headers[i] + 1);
		} else {
			strbuf_adds(r->out, "<th>");
			html_escape(r->out, headers[i]);
		}
		strbuf_adds(r->out, "</th>");
	}
	strbuf_adds(r->out, "</tr></thead>\n<tbody>\n");
}

void
report_table_close(struct report *r)
{
	strbuf_adds(r->out, "</tbody></table>\n");
}

const char *
report_time(double t, char *buf, size_t size)
{
	struct tm	tm;
	time_t		tt;

	if (!isfinite(t) || t <= 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

const char *
report_score(double mean, double lo, double hi, char *buf, size_t size)
{
	if (!isfinite(mean))
		snprintf(buf, size, "-");
	else if (isfinite(lo) && isfinite(hi))
		snprintf(buf, size, "%.3f [%.3f, %.3f]", mean, lo, hi);
	else
		snprintf(buf, size, "%.3f", mean);
	return buf;
}

const char *
report_op_class(const char *op)
{
	static const char *const classes[] = {
		"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"
	};
	return classes[hash64_str(op != NULL ? op : "", 0) %
	    nitems(classes)];
}

void
report_swatch(struct report *r, const char *op)
{
	strbuf_addf(r->out, "<span class=\"sw %s\" aria-hidden=\"true\">"
	    "&#9632;</span>", report_op_class(op));
}

void
report_spent_at(const struct report *r, double time, long long *calls,
    double *dollars)
{
	size_t	i;

	*calls = 0;
	*dollars = 0;
	for (i = 0; i < r->ncalls; i++) {
		if (r->calls[i].created > time)
			continue;
		*calls += strcmp(r->calls[i].status, "ok") == 0;
		*dollars += r->calls[i].cost;
	}
}

const char *
report_run_kind(const struct report *r, int64_t id)
{
	size_t	i;

	for (i = 0; i < r->nruns; i++)
		if (r->runs[i].id == id)
			return r->runs[i].kind;
	return "";
}

/* Answers one query for the job into *out. */
static int
report_query(struct report *r, const char *cmd, int limit, cJSON **out,
    const char **code, char **cause)
{
	cJSON	*args = cJSON_CreateObject();
	int	 rc;

	cJSON_AddStringToObject(args, "job", r->job.name);
	if (limit > 0)
		cJSON_AddNumberToObject(args, "limit", limit);
	rc = query_run(r->store, cmd, args, out, code, cause);
	cJSON_Delete(args);
	return rc == 0 ? 0 : -1;
}

/* Finds the run to report: run, or the job's latest. */
static int
report_find_run(struct report *r, int64_t run, const char **code,
    char **cause)
{
	size_t	i;
	int	found = 0;

	if (store_run_list(r->store, r->job.id, &r->runs, &r->nruns,
	    cause) != 0)
		return -1;
	if (run == 0 && isfinite(json_num(r->status, "run")))
		run = (int64_t)json_num(r->status, "run");
	for (i = 0; i < r->nruns; i++)
		if (r->runs[i].id == run) {
			r->run = r->runs[i];
			found = 1;
		}
	if (!found && run > 0) {
		*code = "not_found";
		return cause_set(cause, "job '%s' has no run %lld",
		    r->job.name, (long long)run);
	}
	return 0;
}

static int
report_load(struct report *r, const char *job, int64_t run,
    const char **code, char **cause)
{
	const cJSON	*v;
	int		 rc;

	*code = "internal";
	if ((rc = store_job_get(r->store, job, &r->job, cause)) <= 0) {
		if (rc == 0) {
			*code = "not_found";
			cause_set(cause, "no job '%s'", job);
		}
		return -1;
	}
	r->spec = cJSON_Parse(r->job.spec);
	v = cJSON_GetObjectItemCaseSensitive(r->spec, "strategy");
	r->strategy = json_str(v, "name", NULL);
	if (r->strategy == NULL)
		r->strategy = cJSON_IsString(v) ? v->valuestring : "";
	if (report_query(r, "status", 0, &r->status, code, cause) != 0 ||
	    report_query(r, "leaderboard", REPORT_TOP, &r->board, code,
	    cause) != 0 ||
	    report_query(r, "history", 0, &r->history, code, cause) != 0 ||
	    report_find_run(r, run, code, cause) != 0)
		return -1;
	r->champion = (int64_t)json_num(r->status, "candidate");
	/* The run's own snapshot: an older run was scored on older data. */
	if ((r->dataset = r->run.dataset) == 0 &&
	    (r->dataset = store_dataset_latest(r->store, r->job.id,
	    cause)) < 0)
		return -1;
	if (r->run.id > 0 && store_run_calls(r->store, r->run.id, &r->calls,
	    &r->ncalls, cause) != 0)
		return -1;
	return 0;
}

static void
report_free(struct report *r)
{
	store_job_row_release(&r->job);
	cJSON_Delete(r->spec);
	cJSON_Delete(r->status);
	cJSON_Delete(r->board);
	cJSON_Delete(r->history);
	free(r->runs);
	store_call_rows_free(r->calls, r->ncalls);
}

static void
report_head(struct report *r)
{
	char	when[64];
	size_t	i;

	strbuf_adds(r->out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">\n"
	    "<meta name=\"generator\" content=\"promptd " PROMPTD_VERSION "\">\n"
	    "<title>");
	report_textf(r, "%s: promptd report", r->job.name);
	strbuf_addf(r->out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n"
	    "<header>\n<h1>", report_css);
	report_text(r, r->job.name);
	strbuf_adds(r->out, "</h1>\n<p class=\"sub\">");
	report_text(r, json_str(r->status, "description", NULL));
	strbuf_adds(r->out, "</p>\n<p class=\"sub\">");
	report_textf(r, "Written by promptd %s at %s", PROMPTD_VERSION,
	    report_time(r->now, when, sizeof when));
	if (r->run.id > 0 && strcmp(r->run.status, "running") == 0)
		report_text(r, ", while the run was under way: a snapshot.");
	strbuf_adds(r->out, "</p>\n<nav>");
	for (i = 0; i < nitems(report_sections); i++)
		strbuf_addf(r->out, "<a href=\"#%s\">%s</a>",
		    report_sections[i].id, report_sections[i].title);
	strbuf_adds(r->out, "</nav>\n</header>\n<main>\n");
}

int
report_write(struct store *s, const char *job, int64_t run,
    struct strbuf *out, const char **code, char **cause)
{
	struct report	r;
	size_t		i;
	int		rc = 0;

	memset(&r, 0, sizeof r);
	r.store = s;
	r.out = out;
	r.now = time_now();
	if (report_load(&r, job, run, code, cause) != 0) {
		report_free(&r);
		return -1;
	}
	report_head(&r);
	for (i = 0; i < nitems(report_sections) && rc == 0; i++) {
		strbuf_addf(out, "<section id=\"%s\">\n<h2>%s</h2>\n",
		    report_sections[i].id, report_sections[i].title);
		rc = report_sections[i].fn(&r, cause);
		strbuf_adds(out, "</section>\n");
	}
	strbuf_adds(out, "</main>\n</body>\n</html>\n");
	report_free(&r);
	if (rc != 0)
		*code = "internal";
	return rc;
}

int
report_save(struct store *s, const char *job, int64_t run, const char *path,
    const char **code, char **cause)
{
	struct strbuf	sb;
	int		rc;

	strbuf_init(&sb);
	rc = report_write(s, job, run, &sb, code, cause);
	if (rc == 0) {
		strbuf_addc(&sb, '\0');
		rc = file_write_atomic(path, sb.buf, cause);
	}
	strbuf_release(&sb);
	return rc;
}

void
report_on_promotion(struct store *s, const char *job, int64_t job_id,
    int64_t run, const char *path)
{
	const char	*code;
	char		*cause = NULL, *msg, *ignored = NULL;

	if (path == NULL)
		return;
	if (report_save(s, job, run, path, &code, &cause) == 0) {
		log_debug("job '%s': report written to %s", job, path);
		return;
	}
	msg = xasprintf("report not written: %s", cause);
	log_warnx("job '%s': %s", job, msg);
	if (store_event(s, job_id, run, "warn", msg, &ignored) != 0)
		free(ignored);
	free(msg);
	free(cause);
}
