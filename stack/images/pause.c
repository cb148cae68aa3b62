/*
 * The sandbox process of every pod on the local stack's real node (the stack's own "pause"
 * image). It holds the pod's namespaces open, reaps the orphans re-parented to it (it is PID 1
 * when the pod shares one PID namespace) and exits 0 on SIGINT or SIGTERM. Built static by
 * stack/images/pauseImage.ts; nothing else is in the image.
 */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal_number) {
  (void)signal_number;
  _exit(0);
}

static void reap(int signal_number) {
  (void)signal_number;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  /* Only these three signals get through; anything else sent to the sandbox is held. */
  sigset_t blocked;
  sigfillset(&blocked);
  sigdelset(&blocked, SIGINT);
  sigdelset(&blocked, SIGTERM);
  sigdelset(&blocked, SIGCHLD);
  sigprocmask(SIG_SETMASK, &blocked, NULL);

  struct sigaction on_stop = {.sa_handler = stop};
  struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  if (sigaction(SIGINT, &on_stop, NULL) < 0 || sigaction(SIGTERM, &on_stop, NULL) < 0 ||
      sigaction(SIGCHLD, &on_child, NULL) < 0) {
    return 1;
  }
  for (;;) pause();
}
