#!/usr/bin/env bash
# The issue's real workloads, each compared with the same run natively: a
# dash pipeline, a bash script with $(...), &, wait, trap and kill, make -j2
# driving gcc in the sandbox's /tmp, and python3 with threads, subprocess,
# multiprocessing.Pool and signal.alarm.
# usage: workloads.sh MOAT
set -u
. "$(dirname "$0")/tap.sh"
MOAT=${1:-}
need_moat
moat=$1
for p in /bin/dash /bin/bash /usr/bin/make /usr/bin/gcc /usr/bin/python3 /usr/bin/seq /usr/bin/sort; do
    [ -x "$p" ] || skip_all "$p is not installed"
done

same() {
    local name=$1
    shift
    local want got
    want=$("$@" 2>&1)
    got=$(timeout -s KILL 300 "$moat" do -- "$@" 2>&1)
    is "$got" "$want" "$name: the same output as natively"
}

same "dash pipeline" /bin/sh -c 'seq 1 100000 | sort -rn | head -3'

bash_script='
f() { echo "in f: $1"; }
x=$(f sub)
echo "$x"
sleep 0.2 & p1=$!
(exit 3) & p2=$!
wait $p1; echo "p1: $?"
wait $p2; echo "p2: $?"
trap "echo got USR1" USR1
kill -USR1 $$
sleep 5 & p3=$!
kill $p3
wait $p3; echo "killed: $?"
for i in 1 2 3; do echo "$i" & done; wait
echo done'
want=$(/bin/bash -c "$bash_script" 2>&1 | sort)
got=$(timeout -s KILL 120 "$moat" do -- /bin/bash -c "$bash_script" 2>&1 | sort)
is "$got" "$want" "bash: \$(...), &, wait, trap and kill as natively"

make_script='set -e
d=$(mktemp -d /tmp/moat-make.XXXXXX); cd "$d"
for i in 1 2 3 4 5 6; do printf "int f%d(int x) { return x * %d; }\n" $i $i > f$i.c; done
printf "#include <stdio.h>\nint f6(int);\nint main(void) { printf(\"%%d\\\\n\", f6(7)); return 0; }\n" > main.c
printf "OBJS = main.o f1.o f2.o f3.o f4.o f5.o f6.o\nprog: \$(OBJS)\n\tgcc -o prog \$(OBJS)\n%%.o: %%.c\n\tgcc -O2 -c \$< -o \$@\n" > Makefile
make -s -j2
./prog
cd /; rm -rf "$d"'
same "make -j2 with gcc" /bin/bash -c "$make_script"

py='
import threading, subprocess, signal, multiprocessing, time
def work(n):
    return sum(i * i for i in range(n))
lock = threading.Lock()
total = []
def th(i):
    v = work(20000 + i)
    with lock:
        total.append(v)
ts = [threading.Thread(target=th, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("threads", len(total), sum(total))
print(subprocess.run(["/bin/echo", "from a subprocess"], capture_output=True, text=True).stdout.strip())
fired = []
signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
signal.alarm(1)
while not fired:
    time.sleep(0.05)
print("alarm", fired)
if __name__ == "__main__":
    with multiprocessing.Pool(4) as p:
        print("pool", p.map(work, [1000, 2000, 3000, 4000]))'
same "python3 threads, subprocess, Pool(4), alarm" /usr/bin/python3 -c "$py"
done_testing
