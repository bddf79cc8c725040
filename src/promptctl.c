/* Placeholder: promptctl is not yet written. */
int
main(void)
{
	return 2;
}
