import type { Command } from 'commander';

/** Registers `itasim recompute`. */
export function register(_program: Command): void {}
