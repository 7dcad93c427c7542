/* The physical floor of a warm lookup: one process that finds a key with
 * request_key and reads it with keyctl_read, nothing else. */
#include <keyutils.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char buf[512];
	if (argc != 2)
		return 2;
	key_serial_t key = request_key("user", argv[1], NULL, KEY_SPEC_USER_KEYRING);
	if (key < 0)
		return 1;
	long n = keyctl_read(key, buf, sizeof(buf));
	if (n < 0)
		return 1;
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}
