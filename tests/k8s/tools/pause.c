/* tests/k8s/tools/pause.c: the pod sandbox's process for the lab's pause image
 * (k8s.gcr.io/pause:3.2): holds the pod's namespaces until told to stop, reaps what is
 * reparented to it (it is PID 1 of the pod), and exits 0 on SIGTERM or SIGINT.
 * Built static by scripts/k8s-lab, so the image holds this file alone. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction s = { .sa_handler = stop };
	sigaction(SIGTERM, &s, NULL);
	sigaction(SIGINT, &s, NULL);
	s.sa_handler = reap;
	s.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &s, NULL);
	for (;;)
		pause();
	return 0;
}
