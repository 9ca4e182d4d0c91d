;; GF(2^8) multiply-accumulate with WebAssembly SIMD (split-nibble tables).
;;
;; A constant c times a byte x is c·(x & 15) XOR c·(x & 240): two lookups of 16 entries,
;; which i8x16.swizzle does for 16 bytes at once. For each (parity row, data shard)
;; pair the caller writes 32 bytes of tables: c·0 … c·15, then c·0x00, c·0x10 … c·0xF0.
;;
;; encode(tables, inputs, k, outputs, m, len): for every output j and input i,
;;   output_j[0..len) ^= c_ji · input_i[0..len)
;; `inputs` and `outputs` hold k and m i32 addresses; tables of (j, i) are at
;; tables + 32·(j·k + i). len is a multiple of 16. Outputs must be zeroed by the caller
;; (or hold what to accumulate onto). Blocked by 1 KiB so outputs stay in the L1 cache
;; while every input passes over them.
;;
;; xor(inputs, k, output, len): output[0..len) = input_0 ^ … ^ input_(k−1), 64 bytes a
;; step: every coefficient is 1 (XOR parity, LRC local parities) and no table is needed.
;; len is a multiple of 64.
(module
  (memory (export "memory") 1)
  (func (export "encode")
    (param $tables i32) (param $inputs i32) (param $k i32) (param $outputs i32) (param $m i32) (param $len i32)
    (local $block i32) (local $blockEnd i32) (local $i i32) (local $j i32)
    (local $in i32) (local $out i32) (local $p i32) (local $t i32) (local $end i32)
    (local $mask v128) (local $v v128) (local $lo v128) (local $hi v128) (local $tlo v128) (local $thi v128)
    (local.set $mask (i8x16.splat (i32.const 15)))
    (local.set $block (i32.const 0))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $block) (local.get $len)))
        (local.set $blockEnd (i32.add (local.get $block) (i32.const 1024)))
        (if (i32.gt_u (local.get $blockEnd) (local.get $len)) (then (local.set $blockEnd (local.get $len))))
        (local.set $j (i32.const 0))
        (block $outsDone
          (loop $outs
            (br_if $outsDone (i32.ge_u (local.get $j) (local.get $m)))
            (local.set $out (i32.load (i32.add (local.get $outputs) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $i (i32.const 0))
            (block $insDone
              (loop $ins
                (br_if $insDone (i32.ge_u (local.get $i) (local.get $k)))
                (local.set $in (i32.load (i32.add (local.get $inputs) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $t (i32.add (local.get $tables)
                  (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (local.get $i)) (i32.const 5))))
                (local.set $tlo (v128.load (local.get $t)))
                (local.set $thi (v128.load offset=16 (local.get $t)))
                (local.set $p (local.get $block))
                (block $bytesDone
                  (loop $bytes
                    (br_if $bytesDone (i32.ge_u (local.get $p) (local.get $blockEnd)))
                    (local.set $v (v128.load (i32.add (local.get $in) (local.get $p))))
                    (local.set $lo (i8x16.swizzle (local.get $tlo) (v128.and (local.get $v) (local.get $mask))))
                    (local.set $hi (i8x16.swizzle (local.get $thi) (i8x16.shr_u (local.get $v) (i32.const 4))))
                    (v128.store (i32.add (local.get $out) (local.get $p))
                      (v128.xor (v128.load (i32.add (local.get $out) (local.get $p)))
                        (v128.xor (local.get $lo) (local.get $hi))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (br $bytes)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $ins)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $outs)))
        (local.set $block (local.get $blockEnd))
        (br $blocks)))
  )
  (func (export "xor") (param $inputs i32) (param $k i32) (param $out i32) (param $len i32)
    (local $p i32) (local $i i32) (local $in i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local.set $p (i32.const 0))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $p) (local.get $len)))
        (local.set $in (i32.add (i32.load (local.get $inputs)) (local.get $p)))
        (local.set $a (v128.load (local.get $in)))
        (local.set $b (v128.load offset=16 (local.get $in)))
        (local.set $c (v128.load offset=32 (local.get $in)))
        (local.set $d (v128.load offset=48 (local.get $in)))
        (local.set $i (i32.const 1))
        (block $insDone
          (loop $ins
            (br_if $insDone (i32.ge_u (local.get $i) (local.get $k)))
            (local.set $in (i32.add (i32.load (i32.add (local.get $inputs) (i32.shl (local.get $i) (i32.const 2)))) (local.get $p)))
            (local.set $a (v128.xor (local.get $a) (v128.load (local.get $in))))
            (local.set $b (v128.xor (local.get $b) (v128.load offset=16 (local.get $in))))
            (local.set $c (v128.xor (local.get $c) (v128.load offset=32 (local.get $in))))
            (local.set $d (v128.xor (local.get $d) (v128.load offset=48 (local.get $in))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $ins)))
        (local.set $in (i32.add (local.get $out) (local.get $p)))
        (v128.store (local.get $in) (local.get $a))
        (v128.store offset=16 (local.get $in) (local.get $b))
        (v128.store offset=32 (local.get $in) (local.get $c))
        (v128.store offset=48 (local.get $in) (local.get $d))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $bytes)))
  )
)
