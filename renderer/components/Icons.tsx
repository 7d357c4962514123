/** Small stroke icons as inline SVG, so they render the same whatever fonts the machine has. */
import type { ReactNode } from 'react';

function Icon({ children }: { children: ReactNode }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" strokeLinejoin="round" aria-hidden>
      {children}
    </svg>
  );
}

/** Export: an arrow out of a tray. */
export const ExportIcon = () => (
  <Icon>
    <path d="M8 10V2.5M5 5.5l3-3 3 3M3 9.5v3.5h10V9.5" />
  </Icon>
);

export const SearchIcon = () => (
  <Icon>
    <circle cx="7" cy="7" r="4.5" />
    <path d="M10.5 10.5 14 14" />
  </Icon>
);

export const FilterIcon = () => (
  <Icon>
    <path d="M2 3h12l-4.5 5.5V13l-3 1.5V8.5z" />
  </Icon>
);

export const MaximizeIcon = () => (
  <Icon>
    <path d="M9.5 2.5h4v4M6.5 13.5h-4v-4M13.5 2.5 9 7M2.5 13.5 7 9" />
  </Icon>
);

export const RestoreIcon = () => (
  <Icon>
    <path d="M13 7H9V3M3 9h4v4M9 7l4.5-4.5M7 9l-4.5 4.5" />
  </Icon>
);

export const CloseIcon = () => (
  <Icon>
    <path d="M4 4l8 8M12 4l-8 8" />
  </Icon>
);

/** A clock arrow turning back: replay the run. */
export const ReplayIcon = () => (
  <Icon>
    <path d="M2.5 8a5.5 5.5 0 1 0 1.6-3.9" />
    <path d="M2.5 2.5v3h3" />
    <path d="M8 5v3l2 1.5" />
  </Icon>
);

export const PlayIcon = () => (
  <Icon>
    <path d="M4.5 3v10l8.5-5z" fill="currentColor" />
  </Icon>
);

export const PauseIcon = () => (
  <Icon>
    <path d="M5 3v10M11 3v10" strokeWidth="2.5" />
  </Icon>
);

export const StepBackIcon = () => (
  <Icon>
    <path d="M4 3v10" />
    <path d="M13 3v10L6 8z" />
  </Icon>
);

export const StepForwardIcon = () => (
  <Icon>
    <path d="M12 3v10" />
    <path d="M3 3v10l7-5z" />
  </Icon>
);

/** A marker flag with an arrow: jump to the previous or next error. */
export const PreviousErrorIcon = () => (
  <Icon>
    <path d="M9 3 4 8l5 5" />
    <path d="M13 4v8" stroke="var(--error)" strokeWidth="2" />
  </Icon>
);

export const NextErrorIcon = () => (
  <Icon>
    <path d="m7 3 5 5-5 5" />
    <path d="M3 4v8" stroke="var(--error)" strokeWidth="2" />
  </Icon>
);
