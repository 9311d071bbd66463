#!/bin/sh
# TAP: the plain REPL (qscope --plain) driven in tmux: expressions with and
# without '=', statements, multi-line chunks, Tab completion, Ctrl-C on a
# runaway loop, Ctrl-D and the history file.
q=${QSCOPE:-../src/qscope}
command -v tmux >/dev/null 2>&1 || { echo "1..0 # SKIP tmux not installed"; exit 0; }
sock=qsrepl$$
home=$(mktemp -d)
T() { tmux -L "$sock" -f /dev/null "$@"; }
trap 'T kill-server 2>/dev/null; rm -rf "$home"' EXIT
n=0
screen() { T capture-pane -p -t qs 2>/dev/null; }
# wait_for TEXT: poll the screen every 0.1 s, up to 5 s
wait_for() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
# wait_line TEXT: like wait_for, for a whole line
wait_line() {
	i=0
	while [ $i -lt 50 ]; do
		screen | grep -qxF -- "$1" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; screen | sed 's/^/# /'; fi
}
echo "1..9"
T new-session -d -s qs -x 80 -y 24 "env HOME='$home' LC_ALL=C.UTF-8 TERM=screen '$q' --plain"
wait_for "qscope>"; ok $? "prompt appears"
T send-keys -t qs '1+1' Enter
wait_line "2"; ok $? "bare expression prints its value"
T send-keys -t qs '= 20+22' Enter
wait_line "42"; ok $? "'= expr' prints its value"
T send-keys -t qs 'x = qs.tensor({3, 4})' Enter 'print(x.size * 100)' Enter
wait_line "200"; ok $? "statements run and print goes to the terminal"
T send-keys -t qs 'for i = 1, 2 do' Enter 'print("row" .. i * 7) end' Enter
wait_line "row14"; ok $? "a chunk over two lines"
T send-keys -t qs 'qs.quan' Tab
wait_for "qs.quantize"; ok $? "Tab completes qs.quan to qs.quantize"
T send-keys -t qs C-u
T send-keys -t qs 'while true do end' Enter
sleep 0.3
T send-keys -t qs C-c
wait_for "interrupted!"; ok $? "Ctrl-C stops a runaway loop"
T send-keys -t qs 'print("still" .. "here")' Enter
wait_for "stillhere"; ok $? "the REPL keeps running after Ctrl-C"
T send-keys -t qs C-d
i=0; while [ $i -lt 50 ] && [ ! -s "$home/.qscope_history" ]; do sleep 0.1; i=$((i + 1)); done
grep -q '^= 20+22$' "$home/.qscope_history" 2>/dev/null; ok $? "Ctrl-D quits and history is saved in ~/.qscope_history"
