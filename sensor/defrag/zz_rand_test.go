package defrag_test

import (
	"math/rand"
	"testing"
	"time"
)

func TestZZRandDefrag(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var worst time.Duration
	n := 0
	for n < 3000 {
		spec := make([]byte, 4*r.Intn(200))
		r.Read(spec)
		start := time.Now()
		for k := 0; k < 3; k++ {
			runSpec(t, spec)
		}
		if d := time.Since(start) / 3; d > worst {
			worst = d
		}
		n++
	}
	t.Logf("%d inputs, worst %v", n, worst)
}
