// A stand-in for the flow classifier (mechanism/bpf/classifier.ts): attach state and the lists in force.
import { imageOf, type ClassifierImage, type ClassifierList } from '../mechanism/bpf/classifier.ts';
import type { FlowClassifier } from '../daemon/app-cgroups.ts';

export class MemoryClassifier implements FlowClassifier {
  attached = false;
  lists: readonly ClassifierList[] = [];

  attach(): void {
    this.attached = true;
  }

  detach(): void {
    this.attached = false;
    this.lists = [];
  }

  replace(lists: readonly ClassifierList[]): void {
    if (!this.attached) throw new Error('classifier: not attached');
    this.lists = lists;
  }

  read(): ClassifierImage {
    return imageOf(this.lists);
  }
}
