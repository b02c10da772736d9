;; The per-sample part of the audio analysis (audio-analysis.ts), with WebAssembly SIMD: over a range of 16-bit PCM
;; samples, the exact sum of squares and the peak |sample| of each channel. Built into pcm-kernel-bytes.ts by
;; scripts/build-pcm-kernel.mjs; pcm-kernel.ts loads it and holds the same computation in plain JS as the fallback.
;;
;; Memory (one page, shared by every call of the process: each call copies its frame in, then measures it):
;;   [0, 32)   results: f64 sum of squares of channel 0, of channel 1, f64 peak² of channel 0, of channel 1
;;   [64, 65520)  the samples (little-endian int16, interleaved c,a,c,a for stereo); 16 bytes of slack after them,
;;             so the last partial vector can be loaded whole and masked.
;;
;; Exactness: a square is at most 32768² = 2^30, so two of them fit an unsigned 32-bit lane; lane sums go on in
;; 64-bit lanes, and the f64 results are exact below 2^53 (a 10 ms window at 384 kHz sums at most 2^42).
;; Lanes alternate channels (even lanes channel 0), so 8 samples are 4 of each channel of a stereo stream.
(module $pcm_kernel
  (memory (export "memory") 1 1)

  ;; Measures the samples in bytes [start, end) (start and end even, end - start < 65536). mono = 1 adds the two
  ;; channels' figures into channel 0's (all lanes are one channel).
  (func $measure (export "measure") (param $start i32) (param $end i32) (param $mono i32)
    (local $p i32)
    (local $v v128)
    (local $squares v128)
    (local $sums v128)
    (local $high v128)
    (local $low v128)
    (local $peaks v128)
    (local $sum0 i64)
    (local $sum1 i64)
    (local $peak0 i32)
    (local $peak1 i32)
    (local.set $p (local.get $start))
    (block $whole_vectors_done
      (loop $whole_vectors
        (br_if $whole_vectors_done (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $v (v128.load align=1 (local.get $p)))
        (local.set $squares (i32x4.add (i32x4.extmul_low_i16x8_s (local.get $v) (local.get $v))
                                       (i32x4.extmul_high_i16x8_s (local.get $v) (local.get $v))))
        (local.set $sums (i64x2.add (local.get $sums) (i64x2.extend_low_i32x4_u (local.get $squares))))
        (local.set $sums (i64x2.add (local.get $sums) (i64x2.extend_high_i32x4_u (local.get $squares))))
        (local.set $high (i16x8.max_s (local.get $high) (local.get $v)))
        (local.set $low (i16x8.min_s (local.get $low) (local.get $v)))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $whole_vectors)))
    ;; The last 1-7 samples: the lanes past the end are zeroed, and zero changes neither a sum of squares nor a peak.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (local.set $v (v128.and (v128.load align=1 (local.get $p))
                                (i16x8.lt_s (v128.const i16x8 0 1 2 3 4 5 6 7)
                                            (i16x8.splat (i32.shr_u (i32.sub (local.get $end) (local.get $p)) (i32.const 1))))))
        (local.set $squares (i32x4.add (i32x4.extmul_low_i16x8_s (local.get $v) (local.get $v))
                                       (i32x4.extmul_high_i16x8_s (local.get $v) (local.get $v))))
        (local.set $sums (i64x2.add (local.get $sums) (i64x2.extend_low_i32x4_u (local.get $squares))))
        (local.set $sums (i64x2.add (local.get $sums) (i64x2.extend_high_i32x4_u (local.get $squares))))
        (local.set $high (i16x8.max_s (local.get $high) (local.get $v)))
        (local.set $low (i16x8.min_s (local.get $low) (local.get $v)))))
    ;; Peaks per lane in 32 bits (|-32768| does not fit 16), then lanes 2,3 folded onto 0,1.
    (local.set $peaks (i32x4.max_s
      (i32x4.max_s (i32x4.extend_low_i16x8_s (local.get $high)) (i32x4.extend_high_i16x8_s (local.get $high)))
      (i32x4.neg (i32x4.min_s (i32x4.extend_low_i16x8_s (local.get $low)) (i32x4.extend_high_i16x8_s (local.get $low))))))
    (local.set $peaks (i32x4.max_s (local.get $peaks)
      (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $peaks) (local.get $peaks))))
    (local.set $sum0 (i64x2.extract_lane 0 (local.get $sums)))
    (local.set $sum1 (i64x2.extract_lane 1 (local.get $sums)))
    (local.set $peak0 (i32x4.extract_lane 0 (local.get $peaks)))
    (local.set $peak1 (i32x4.extract_lane 1 (local.get $peaks)))
    (if (local.get $mono)
      (then
        (local.set $sum0 (i64.add (local.get $sum0) (local.get $sum1)))
        (local.set $sum1 (i64.const 0))
        (if (i32.gt_s (local.get $peak1) (local.get $peak0)) (then (local.set $peak0 (local.get $peak1))))
        (local.set $peak1 (i32.const 0))))
    (f64.store offset=0 (i32.const 0) (f64.convert_i64_u (local.get $sum0)))
    (f64.store offset=8 (i32.const 0) (f64.convert_i64_u (local.get $sum1)))
    (f64.store offset=16 (i32.const 0) (f64.convert_i32_u (i32.mul (local.get $peak0) (local.get $peak0))))
    (f64.store offset=24 (i32.const 0) (f64.convert_i32_u (i32.mul (local.get $peak1) (local.get $peak1))))))
