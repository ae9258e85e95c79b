package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/contrastive-ssl/contrastive/internal/safetensors"
)

// Record is one line of metrics.jsonl: a logged optimizer step, or an
// evaluation (KNNTop1 set) of the online kNN monitor.
type Record struct {
	Step      int      `json:"step"`
	Epoch     int      `json:"epoch"`
	Loss      float64  `json:"loss"`
	LR        float64  `json:"lr"`
	ImagesSec float64  `json:"images_per_sec"`
	Elapsed   float64  `json:"elapsed_s"`
	KNNTop1   *float64 `json:"knn_top1,omitempty"`
	KNNTop5   *float64 `json:"knn_top5,omitempty"`
	// BankKNNTop1 and BankKNNTop5 are the memory-bank methods' kNN straight
	// from the bank (InstDisc §3.5), logged with the kNN monitor.
	BankKNNTop1 *float64 `json:"bank_knn_top1,omitempty"`
	BankKNNTop5 *float64 `json:"bank_knn_top5,omitempty"`
	// Method holds the method's own statistics of the logged step's batch
	// (methods.Reporter), such as SwAV's code and prediction entropies.
	Method map[string]float64 `json:"method,omitempty"`
	// Process samples the process at the logged step (resident memory,
	// Go heap, goroutines, open files): flat lines over a long run.
	Process *ProcessStats `json:"process,omitempty"`
	// CommSec is the time per step a data-parallel run's rank 0 waited
	// for communication since the last logged step (not hidden behind
	// computation).
	CommSec *float64 `json:"comm_s_per_step,omitempty"`
}

// MetricsLog appends Records to a JSON-lines file.
type MetricsLog struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

// OpenMetrics opens path for appending (creating it). On resume the file
// is first rewritten, atomically (a temporary file renamed over it), to
// the records with Step <= keepUpTo, so a resumed run's log equals an
// uninterrupted one and a failure (a full disk) leaves the old log whole.
func OpenMetrics(path string, keepUpTo int) (*MetricsLog, error) {
	old, err := ReadMetrics(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err == nil {
		var buf bytes.Buffer
		for _, r := range old {
			if r.Step <= keepUpTo {
				b, err := json.Marshal(r)
				if err != nil {
					return nil, fmt.Errorf("metrics %s: %w", path, err)
				}
				buf.Write(append(b, '\n'))
			}
		}
		if err := safetensors.WriteFileAtomic(path, buf.Bytes()); err != nil {
			return nil, metricsError(err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, metricsError(err)
	}
	return &MetricsLog{path: path, f: f, w: bufio.NewWriter(f)}, nil
}

// metricsError is a failed metrics write, with its cause in words.
func metricsError(err error) error {
	if h := diskHint(err); h != "" {
		return fmt.Errorf("metrics: %w (%s)", err, h)
	}
	return fmt.Errorf("metrics: %w", err)
}

// Write appends one record. A nil log (a data-parallel run's processes
// other than rank 0) writes nothing.
func (m *MetricsLog) Write(r Record) error {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("metrics %s: %w", m.path, err)
	}
	b = append(b, '\n')
	if _, err := m.w.Write(b); err != nil {
		return metricsError(fmt.Errorf("%s: %w", m.path, err))
	}
	return nil
}

// Flush writes buffered records to the file.
func (m *MetricsLog) Flush() error {
	if m == nil {
		return nil
	}
	if err := m.w.Flush(); err != nil {
		return metricsError(fmt.Errorf("%s: %w", m.path, err))
	}
	return nil
}

// Close flushes and closes the file.
func (m *MetricsLog) Close() error {
	if m == nil {
		return nil
	}
	err := m.Flush()
	if cerr := m.f.Close(); err == nil && cerr != nil {
		err = metricsError(fmt.Errorf("%s: %w", m.path, cerr))
	}
	return err
}

// ReadMetrics reads every record of a metrics.jsonl file.
func ReadMetrics(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Records are appended a line at a time; a process killed in the middle
	// of a write (SIGKILL, power loss) leaves a last line without its
	// newline. That torn line is dropped, not an error: the resumed run
	// logs those steps again.
	if i := bytes.LastIndexByte(b, '\n'); i < len(b)-1 {
		b = b[:i+1]
	}
	var out []Record
	for line, text := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(text, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}
