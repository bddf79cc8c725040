/* Placeholder: these tests are not yet written (exit 77 is a skip). */
int
main(void)
{
	return 77;
}
