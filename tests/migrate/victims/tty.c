/* tty: a migrated process and its home terminal. After the move it checks
 * isatty() and tcgetattr() on stdin, prints the window size (TIOCGWINSZ,
 * answered by the home terminal), then waits for SIGWINCH (the harness
 * resizes the terminal) and prints the new size, then PASS.
 */
#include "victim.h"

#include <sys/ioctl.h>
#include <termios.h>

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

int main(void)
{
	struct winsize ws;
	struct termios t;
	struct sigaction sa;
	sigset_t block, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	v_ready();
	v_wait();
	if (!isatty(0) || tcgetattr(0, &t) < 0)
		return v_fail("stdin is no terminal after the move");
	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return v_fail("TIOCGWINSZ");
	printf("winsize %ux%u\n", ws.ws_row, ws.ws_col);
	fflush(stdout);
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!winch)
		sigsuspend(&old);
	if (ioctl(0, TIOCGWINSZ, &ws) < 0)
		return v_fail("TIOCGWINSZ after SIGWINCH");
	printf("winch %ux%u\n", ws.ws_row, ws.ws_col);
	return v_pass();
}
