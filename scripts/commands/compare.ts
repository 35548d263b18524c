import type { Command } from 'commander';

/** Registers `itasim compare`. */
export function register(_program: Command): void {}
