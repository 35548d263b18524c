import type { Command } from 'commander';

/** Registers `itasim onnx`. */
export function register(_program: Command): void {}
