// Package machine says what the machine lets this process use: how much memory it may take
// (SafeMemory, from /proc/meminfo and the control groups it is in) and how much it holds now
// (Resident, what the kernel's out-of-memory killer weighs). The explorer's memory budget and
// the watchdogs that stop a step allocating without end read it, so that a search or a
// campaign ends with a report instead of being killed.
package machine
