/*
 * The benchmark's fast load generator (see cLoadGenerator.ts, which builds it with the system's cc at bench time).
 *
 * Keeps WINDOW datagrams of SIZE bytes in flight to an echo server on 127.0.0.1:PORT and counts the replies, sending
 * a new datagram for each one that comes back, until COUNT are answered or DEADLINE_MS pass. sendmmsg and recvmmsg
 * move up to 64 datagrams per system call, so this side costs a fraction of the server it drives: the server always
 * has datagrams waiting, and its CPU time per datagram is what its own code costs, not how often a slower generator
 * woke it. A window that gets no reply for 200 ms counts as lost and is sent again; sends stop at twice COUNT.
 *
 * usage: cLoadGenerator PORT SIZE WINDOW COUNT DEADLINE_MS
 * prints one line of JSON: sent, answered, lost, durationMs, cpuMs (this process, user + system).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define BATCH 64
#define MAX_WINDOW 4096
#define MAX_DATAGRAM 65507
#define RECEIVE_SLOT 65536

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
}

static long argument(const char *text, long min, long max, const char *name) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*end != '\0' || value < min || value > max) {
    fprintf(stderr, "cLoadGenerator: %s must be a whole number from %ld to %ld; got %s\n", name, min, max, text);
    exit(2);
  }
  return value;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: cLoadGenerator PORT SIZE WINDOW COUNT DEADLINE_MS\n");
    return 2;
  }
  long port = argument(argv[1], 1, 65535, "PORT");
  long size = argument(argv[2], 1, MAX_DATAGRAM, "SIZE");
  long window = argument(argv[3], 1, MAX_WINDOW, "WINDOW");
  long count = argument(argv[4], 1, 100000000, "COUNT");
  long deadline = argument(argv[5], 1, 600000, "DEADLINE_MS");

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&server, sizeof server) != 0) {
    perror("cLoadGenerator: socket");
    return 1;
  }
  struct timeval wait = {0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);

  static struct mmsghdr out[BATCH], in[BATCH];
  static struct iovec out_iov[BATCH], in_iov[BATCH];
  char *payload = calloc(1, (size_t)size);
  char *received = malloc((size_t)BATCH * RECEIVE_SLOT);
  if (payload == NULL || received == NULL) return 1;
  for (int i = 0; i < BATCH; i++) {
    out_iov[i] = (struct iovec){payload, (size_t)size};
    in_iov[i] = (struct iovec){received + (size_t)i * RECEIVE_SLOT, RECEIVE_SLOT};
    out[i].msg_hdr = (struct msghdr){.msg_iov = &out_iov[i], .msg_iovlen = 1};
    in[i].msg_hdr = (struct msghdr){.msg_iov = &in_iov[i], .msg_iovlen = 1};
  }

  long sent = 0, answered = 0, lost = 0, in_flight = 0;
  const long max_sends = 2 * count;
  double start = now_ms();
  for (;;) {
    long wanted = window < count - answered ? window : count - answered;
    while (in_flight < wanted && sent < max_sends) {
      long batch = wanted - in_flight;
      if (batch > BATCH) batch = BATCH;
      if (batch > max_sends - sent) batch = max_sends - sent;
      int n = sendmmsg(fd, out, (unsigned int)batch, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      sent += n;
      in_flight += n;
    }
    if (answered >= count || in_flight == 0 || now_ms() - start > deadline) break;
    int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
    if (n > 0) {
      answered += n;
      in_flight = in_flight > n ? in_flight - n : 0;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) {
      lost += in_flight;
      in_flight = 0;
    } else if (errno != EINTR) {
      perror("cLoadGenerator: recvmmsg");
      return 1;
    }
  }
  printf("{\"sent\":%ld,\"answered\":%ld,\"lost\":%ld,\"durationMs\":%.3f,\"cpuMs\":%.3f}\n", sent, answered, lost + in_flight,
         now_ms() - start, cpu_ms());
  return 0;
}
