# Start-up of every core: a 1 KiB stack per hart at the top of the TCDM, then main(hartid).
# Core 0's return value ends the run through tohost (HTIF: (code << 1) | 1); the other cores
# sleep.
    .section .text.init, "ax"
    .globl _start
_start:
    csrr    a0, mhartid
    la      sp, __stack_top
    slli    t0, a0, 10
    sub     sp, sp, t0
    call    main
    csrr    t0, mhartid
    bnez    t0, 2f
    slli    a0, a0, 1
    ori     a0, a0, 1
    la      t1, tohost
    sw      a0, 0(t1)
2:  wfi
    j       2b

    .section .tohost, "aw", @progbits
    .align  6
    .globl  tohost
tohost:
    .word   0
    .word   0
