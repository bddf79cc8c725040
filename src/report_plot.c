/* The report's progress and calls sections (placeholders). */
#include "report_int.h"

int
report_progress(struct report *r, char **cause)
{
	(void)cause;
	report_none(r, "not written yet");
	return 0;
}

int
report_calls(struct report *r, char **cause)
{
	(void)cause;
	report_none(r, "not written yet");
	return 0;
}
