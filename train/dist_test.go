package train

import (
	"strings"
	"testing"
)

// TestCheckProcesses: a checkpoint of a 2-process run does not resume in
// one process; one without the key (older runs) or of 1 process does.
func TestCheckProcesses(t *testing.T) {
	r := &run{}
	if err := r.checkProcesses(map[string]string{"processes": "2"}); err == nil || !strings.Contains(err.Error(), "mpirun -n 2") {
		t.Errorf("2-process checkpoint in 1 process: error %v, want one saying mpirun -n 2", err)
	}
	for _, meta := range []map[string]string{nil, {"processes": "1"}} {
		if err := r.checkProcesses(meta); err != nil {
			t.Errorf("metadata %v: %v", meta, err)
		}
	}
	if err := r.checkProcesses(map[string]string{"processes": "two"}); err == nil {
		t.Error("processes = two: no error")
	}
	if r.rank() != 0 || r.procs() != 1 || r.meanLoss(2.5) != 2.5 || r.commPerStep() != nil {
		t.Error("a run without a group is not rank 0 of 1")
	}
}
