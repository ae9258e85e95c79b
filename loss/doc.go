// Package loss holds the contrastive objectives, each built from autograd
// ops so that its gradient comes from the engine's tested backward rules:
// NT-Xent (SimCLR, arXiv:2002.05709) in ntxent.go, and the InfoNCE, NCE and
// swapped-prediction losses of the other methods beside it; those of the
// methods after the survey: BYOL and SimSiam's cosine losses (cosine.go),
// Barlow Twins (barlow.go), VICReg (vicreg.go), MoCo v3 (mocov3.go), DINO
// (dino.go) and SupCon (supcon.go).
//
// Every loss takes embeddings as *autograd.Value and returns a scalar
// Value; call autograd.Backward on it, then autograd.Free. Each file
// cites its paper and transcribes the equation it implements; the tests
// check every loss against a PyTorch fixture and a loop-by-loop oracle.
//
// # Errors
//
// Wrong shapes and invalid hyper-parameters (a temperature ≤ 0) passed to
// a loss function are programming errors and panic; configurations coming
// from users are validated before (methods' Config.Validate).
package loss
