/* subreaper: not a victim but the harness's stand-in for init. It makes
 * itself a child subreaper (PR_SET_CHILD_SUBREAPER), runs the command given
 * as its child, and reaps every descendant that is reparented to it (or is
 * its child) until none is left, printing one line for each:
 * "child PID" first, then "reaped PID exit CODE" or "reaped PID signal SIG".
 *
 * usage: subreaper COMMAND [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t c, w;
	int st;

	if (argc < 2) {
		fprintf(stderr, "usage: subreaper COMMAND [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fprintf(stderr, "subreaper: PR_SET_CHILD_SUBREAPER: %s\n", strerror(errno));
		return 1;
	}
	c = fork();
	if (c < 0)
		return 1;
	if (c == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "subreaper: %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	printf("child %d\n", (int)c);
	fflush(stdout);
	while ((w = waitpid(-1, &st, 0)) > 0 || errno == EINTR) {
		if (w <= 0)
			continue;
		if (WIFEXITED(st))
			printf("reaped %d exit %d\n", (int)w, WEXITSTATUS(st));
		else
			printf("reaped %d signal %d\n", (int)w, WTERMSIG(st));
		fflush(stdout);
	}
	return 0;
}
