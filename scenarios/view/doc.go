// Package view draws one run, from any capsule (`replica run`, `shrink` or `explore`), as a
// single self-contained HTML page to step through: what `replica view` and `replica show
// -format html` write.
//
// The page is a space-time diagram: one lane per node and one for the clients, time down the
// page (virtual time for a simulated run; step order for an explored path, which has no time),
// each message an arrow from its send to its delivery, drops, duplicates and blocked messages
// marked on their arrows, crashes, restarts and pauses on their lanes, partitions and one-way
// cuts as bands over the lanes they cut, Byzantine lanes and the messages their adversary bent
// marked, client operations as intervals, and the violation where it happened. A click or the
// arrow keys step through the events; for each, a pane shows its entries with every message in
// full, each changed node's state before and after as a field-by-field diff (go-cmp), the
// choices the chooser made, and which properties hold after it. Filters keep one node, one
// message type or the faults; zoom and two layouts serve runs of thousands of events.
//
// How it gets there: Build replays the capsule under a sim.Observer (a watcher) that, after
// every step, copies the states of the nodes the step touched and diffs them with their last
// copies; a timed run's chooser is wrapped to write its choices down. The trace's message
// identities (sim.Entry.Msg) tie deliveries to sends. The page holds all of it as JSON, whose
// encoding escapes <, > and &, and its script puts every text of the run into the page as
// text, never as markup: a payload that holds </script><script> stays a string.
//
// The parts a test looks for are marked: each lane data-lane (the node's name, or
// "clients"), each message arrow data-msg (the message's number), each fault mark data-fault
// (its kind), the violation data-violation (the property). The page records how long each
// step took to draw in window.replicaTimings and its first drawing in window.replicaLoad.
package view
