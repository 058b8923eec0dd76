/* admin_ctl.c - `ppbridge ctl <socket> <command...>`: one command line to
 * the admin socket, the answer on stdout, an exit status scripts and
 * systemd's ExecReload= can test.
 */
#include <config.h>

#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ppbridge ctl: %s: path too long\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "ppbridge ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer with the error marker removed; 1 when it was an error. */
static int ctl_print(const char *ans, size_t len)
{
	int bad = 0;

	if (len >= 5 && !memcmp(ans, "[3]: ", 5)) {
		ans += 5;
		len -= 5;
		bad = 1;
	}
	if (len >= 10 && !memcmp(ans, "Success=0\n", 10))
		bad = 1;
	/* drop the empty line that ends the answer */
	if (len >= 2 && ans[len - 1] == '\n' && ans[len - 2] == '\n')
		len--;
	fwrite(ans, 1, len, stdout);
	return bad;
}

int adm_ctl_main(int argc, char **argv)
{
	struct adm_out line = {0}, ans = {0};
	char buf[16384];
	ssize_t n;
	int fd, bad;

	if (argc < 3) {
		fprintf(stderr, "Usage: ppbridge ctl <socket> <command...>\n");
		return 2;
	}
	/* the answer starts with "[3]: " exactly when the command failed */
	adm_printf(&line, "set severity-output number;");
	for (int i = 2; i < argc; i++)
		adm_printf(&line, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	fd = ctl_connect(argv[1]);
	if (fd < 0 || write_all(fd, line.buf, line.len) < 0) {
		if (fd >= 0)
			close(fd);
		adm_out_free(&line);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			adm_printf(&ans, "%.*s", (int)n, buf);
	close(fd);
	/* the first answer (to set severity-output) is an empty line */
	bad = ans.len < 1 || ctl_print(ans.buf + 1, ans.len - 1);
	adm_out_free(&line);
	adm_out_free(&ans);
	return bad ? 1 : 0;
}
