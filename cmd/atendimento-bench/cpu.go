package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSample is a reading of the CPU time used so far (in seconds) by the server process, by this
// bench process, and by the whole machine (busy and total, over all
// CPUs, from /proc/stat). The difference of two readings says where a run's CPU went, which on a
// 2-CPU machine is most of what bounds a figure.
type cpuSample struct {
	Server, Bench        float64
	MachineBusy, Machine float64
}

const clockTicks = 100 // USER_HZ: /proc times are in 1/100 s on Linux

// procCPU returns utime+stime of a process in seconds.
func procCPU(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	// The command name (field 2) may contain spaces: fields start after its closing parenthesis.
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64) // field 14, utime
	k, _ := strconv.ParseFloat(f[12], 64) // field 15, stime
	return (u + k) / clockTicks
}

func sampleCPU(serverPids ...int) cpuSample {
	var c cpuSample
	for _, pid := range serverPids {
		c.Server += procCPU(pid)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.Bench = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseFloat(v, 64)
			if i >= 8 { // guest times are already counted in user
				break
			}
			c.Machine += n / clockTicks
			if i != 3 && i != 4 { // idle, iowait
				c.MachineBusy += n / clockTicks
			}
		}
	}
	return c
}

// postgresCPU reads the CPU time of every postgres process, by pid.
func postgresCPU() map[int]float64 {
	out := map[int]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if comm, err := os.ReadFile(d + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			pid, _ := strconv.Atoi(filepath.Base(d))
			out[pid] = procCPU(pid)
		}
	}
	return out
}

// cpuWindow measures a stretch of time. Backends come and go (pgbench's connect and exit with
// it), so Postgres is sampled every 100 ms and each backend counts from its first sighting (0 when
// it was born inside the window) to its last.
type cpuWindow struct {
	pids  []int
	start cpuSample
	stopc chan struct{}
	done  chan float64
}

func startCPU(serverPids ...int) *cpuWindow {
	w := &cpuWindow{pids: serverPids, stopc: make(chan struct{}), done: make(chan float64, 1)}
	first := postgresCPU()
	w.start = sampleCPU(serverPids...)
	go func() {
		last := map[int]float64{}
		for pid, v := range first {
			last[pid] = v
		}
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			stop := false
			select {
			case <-w.stopc:
				stop = true
			case <-t.C:
			}
			for pid, v := range postgresCPU() {
				last[pid] = v
			}
			if stop {
				sum := 0.0
				for pid, v := range last {
					sum += v - first[pid]
				}
				w.done <- sum
				return
			}
		}
	}()
	return w
}

func (w *cpuWindow) stop() cpuUse {
	end := sampleCPU(w.pids...)
	close(w.stopc)
	u := w.start.to(end)
	u.Postgres = <-w.done
	return u
}

// cpuUse is where the CPU went between two samples.
type cpuUse struct {
	Server, Postgres, Bench, Child float64 // seconds; Child: a process the bench ran (pgbench)
	Busy, Total                    float64 // the whole machine's busy and total CPU seconds
	Units                          int
}

func (a cpuSample) to(b cpuSample) cpuUse {
	return cpuUse{Server: b.Server - a.Server, Bench: b.Bench - a.Bench, Busy: b.MachineBusy - a.MachineBusy, Total: b.Machine - a.Machine}
}

// add sums runs (with their units of work).
func (u *cpuUse) add(v cpuUse, units int) {
	u.Server += v.Server
	u.Postgres += v.Postgres
	u.Bench += v.Bench
	u.Child += v.Child
	u.Busy += v.Busy
	u.Total += v.Total
	u.Units += units
}

// per describes the CPU per unit of work. Postgres counts every postgres process of the cluster
// (other users of a shared cluster too); "other processes" is the rest of the machine.
func (u cpuUse) per(unit string) string {
	if u.Units <= 0 || u.Total <= 0 {
		return ""
	}
	ms := func(s float64) float64 { return s * 1000 / float64(u.Units) }
	who := fmt.Sprintf("server %.2f ms, Postgres %.2f ms, bench %.2f ms", ms(u.Server), ms(u.Postgres), ms(u.Bench))
	if u.Child > 0 {
		who = fmt.Sprintf("pgbench %.2f ms, Postgres %.2f ms", ms(u.Child), ms(u.Postgres))
	}
	others := u.Busy - u.Server - u.Postgres - u.Bench - u.Child
	return fmt.Sprintf("CPU per %s: %s; the 2 CPUs were %.0f%% busy, %.2f ms per %s in other processes",
		unit, who, 100*u.Busy/u.Total, ms(max(others, 0)), unit)
}
