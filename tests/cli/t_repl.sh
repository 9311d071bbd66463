#!/bin/sh
# TAP: the plain REPL (qscope --plain) driven in tmux: expressions with and
# without '=', statements, multi-line chunks, Tab completion, Ctrl-C on a
# runaway loop, Ctrl-D and the history file.
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
. "$src/tests/tui/tmuxlib.sh"
echo "1..9"
start 80 24 "'$q' --plain"
wait_for "qscope>"; ok $? "prompt appears"
T send-keys -t qs '1+1' Enter
wait_re "^2$"; ok $? "bare expression prints its value"
T send-keys -t qs '= 20+22' Enter
wait_re "^42$"; ok $? "'= expr' prints its value"
T send-keys -t qs 'x = qs.tensor({3, 4})' Enter 'print(x.size * 100)' Enter
wait_re "^200$"; ok $? "statements run and print goes to the terminal"
T send-keys -t qs 'for i = 1, 2 do' Enter 'print("row" .. i * 7) end' Enter
wait_re "^row14$"; ok $? "a chunk over two lines"
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
