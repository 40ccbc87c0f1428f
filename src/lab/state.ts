// What a running lab is, as recorded in its state file (/run/migbench/lab/state.json):
// read by every command that reaches the lab, written only by lab up.
import type { LabRole } from './topology.js';

export interface LabHostState {
  readonly name: string;
  readonly netns: string;
  readonly address: string;
  readonly port: number;
  readonly hostKeyFingerprint: string;
  readonly migrationAddress: string;
  readonly migrationInterface: string;
  readonly bridge: string;
  readonly dir: string;
}

export interface LabState {
  readonly version: 1;
  readonly prefix: string;
  readonly createdAt: string;
  readonly dir: string;
  readonly clientKeyPath: string;
  readonly hosts: Readonly<Record<LabRole, LabHostState>>;
  readonly observer: { readonly netns: string; readonly address: string };
  readonly guestAddress: string;
  /** libvirtd on each host, when the lab was brought up with libvirt. */
  readonly libvirt?: Readonly<Record<LabRole, LabLibvirtState>>;
}

export interface LabLibvirtState {
  readonly pid: number;
  readonly hostUuid: string;
}
