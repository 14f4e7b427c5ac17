// How a frontend uses the TypeScript types generated from the served OpenAPI document.
//
// run.sh generates `target/contract/ts/api.d.ts` with openapi-typescript (tsconfig.json maps
// the module name "mip-api" to it) and type-checks this file with `tsc --noEmit --strict`.
// Nothing here runs: it compiles only if the published types describe the wire format, in
// particular enums with the snake_case values the server reads and writes ("webinar",
// "public_agents"), merge-patch bodies with the fields of an event, and pages with `data`,
// `next_cursor` and `total`.

import type { components, operations, paths } from "mip-api";

type Schemas = components["schemas"];

type EventFormat = Schemas["EventFormat"];
type EventMode = Schemas["EventMode"];
type Audience = Schemas["Audience"];
type Publication = Schemas["Publication"];
type EventStatus = Schemas["EventStatus"];
type OrganizerKind = Schemas["OrganizerKind"];
type Phase = Schemas["Phase"];
type EventOut = Schemas["EventOut"];
type EventForm = Schemas["EventForm"];
type EventPatch = Schemas["EventPatch"];

// The request and response types a data layer would pick, by path and by operation.
type ListEventsQuery = NonNullable<paths["/api/v1/events"]["get"]["parameters"]["query"]>;
type EventPage = paths["/api/v1/events"]["get"]["responses"][200]["content"]["application/json"];
type CreateEventBody = NonNullable<operations["create_event"]["requestBody"]>["content"]["application/json"];
type UpdateEventBody = NonNullable<operations["update_event"]["requestBody"]>["content"]["application/merge-patch+json"];
type CreatedEvent = operations["create_event"]["responses"][201]["content"]["application/json"];
type RegisterBody = NonNullable<operations["register"]["requestBody"]>["content"]["application/json"];
type EditionBody = NonNullable<operations["create_edition"]["requestBody"]>["content"]["application/json"];
type Problem = Schemas["Problem"];

// --- Enums: exhaustive switches over the wire values -------------------------------------
// Each switch lists exactly the values the server speaks. An extra member in the generated
// union (a Rust variant name such as "Webinar") fails the `never` check; a missing or renamed
// one fails its `case`.

function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}

export function formatLabel(format: EventFormat): string {
  switch (format) {
    case "webinar": return "Webinaire";
    case "conference": return "Conférence";
    case "workshop": return "Atelier";
    case "training": return "Formation";
    case "round_table": return "Table ronde";
    case "hackathon": return "Hackathon";
    case "serious_game": return "Serious game";
    case "creative_session": return "Session créative";
    case "tool_demo": return "Démonstration d'outils";
    case "exhibition": return "Exposition";
    case "visit": return "Visite";
    case "open_house": return "Journée portes ouvertes";
    case "podcast": return "Podcast";
    case "call_for_ideas": return "Appel à idées";
    case "other": return "Autre";
    default: return assertNever(format);
  }
}

export function modeLabel(mode: EventMode): string {
  switch (mode) {
    case "online": return "En ligne";
    case "onsite": return "Sur place";
    case "hybrid": return "Hybride";
    default: return assertNever(mode);
  }
}

export function audienceLabel(audience: Audience): string {
  switch (audience) {
    case "public_agents": return "Agents publics";
    case "general_public": return "Grand public";
    case "everyone": return "Tous publics";
    default: return assertNever(audience);
  }
}

export function publicationBadge(publication: Publication): string {
  switch (publication) {
    case "draft": return "Brouillon";
    case "submitted": return "En modération";
    case "published": return "Publié";
    case "rejected": return "Refusé";
    case "withdrawn": return "Retiré";
    default: return assertNever(publication);
  }
}

export function statusLabel(status: EventStatus): string {
  switch (status) {
    case "scheduled": return "Programmé";
    case "postponed": return "Reporté";
    case "rescheduled": return "Reprogrammé";
    case "moved_online": return "Passé en ligne";
    case "full": return "Complet";
    case "cancelled": return "Annulé";
    default: return assertNever(status);
  }
}

export function organizerKindLabel(kind: OrganizerKind): string {
  switch (kind) {
    case "central_administration": return "Administration centrale";
    case "deconcentrated_service": return "Service déconcentré";
    case "local_authority": return "Collectivité";
    case "public_operator": return "Opérateur public";
    case "health_social_establishment": return "Établissement sanitaire et social";
    case "innovation_lab": return "Laboratoire d'innovation";
    case "association": return "Association";
    case "other": return "Autre";
    default: return assertNever(kind);
  }
}

export function phaseLabel(phase: Phase): string {
  switch (phase) {
    case "upcoming": return "À venir";
    case "referencing": return "Référencement ouvert";
    case "running": return "En cours";
    case "closed": return "Terminé";
    default: return assertNever(phase);
  }
}

// --- Requests: typed bodies as a form would build them -----------------------------------

export const newEvent: EventForm = {
  edition: 2031,
  title: "Webinaire : concevoir avec les usagers",
  format: "webinar",
  mode: "online",
  audience: "public_agents",
  online_url: "https://visio.example.org/mip-2031",
  sessions: [{ starts_at: "2031-11-04T10:00:00+01:00", ends_at: "2031-11-04T11:30:00+01:00" }],
  tags: ["design", "usagers"],
  registration: { required: true, url: "https://inscription.example.org/mip-2031", capacity: 100 },
  status: "scheduled",
};

// The same body, typed from the operation as a data layer would.
export const createBody: CreateEventBody = newEvent;

// A merge patch: any part of the form, `null` clears a field (RFC 7396).
export const patch: EventPatch = {
  title: "Webinaire : concevoir avec les usagers (2e édition)",
  format: "workshop",
  mode: "hybrid",
  audience: "everyone",
  summary: null,
  venue: { city: "Rennes", department: "35", postal_code: "35000" },
};
export const updateBody: UpdateEventBody = patch;

export const registration: RegisterBody = {
  email: "innovation@prefecture-35.example",
  password: "a-long-enough-password",
  organizer: { name: "Préfecture d'Ille-et-Vilaine", kind: "deconcentrated_service", department: "35" },
};

export const edition: EditionBody = {
  year: 2031,
  number: 18,
  title: "Mois de l'innovation publique 2031",
  starts_on: "2031-11-01",
  ends_on: "2031-11-30",
  referencing_opens_at: "2031-01-01T00:00:00Z",
  referencing_closes_at: "2031-10-15T00:00:00Z",
};

export const programmeFilter: ListEventsQuery = {
  edition: [2021],
  format: ["webinar", "workshop"],
  region: ["53"],
  facets: ["region", "format"],
  limit: 5,
};

// --- Responses: reading pages and events --------------------------------------------------

export interface Card {
  href: string;
  title: string;
  format: EventFormat;
  label: string;
  when: string;
  where: string;
  badge: string;
}

export function card(event: EventOut): Card {
  // `format` is the string union itself: comparable with a literal, usable as a key.
  const isWebinar: boolean = event.format === "webinar";
  const where = event.mode === "online" ? modeLabel(event.mode) : event.venue?.city ?? modeLabel(event.mode);
  return {
    href: `/evenements/${event.slug}`,
    title: event.title,
    format: event.format,
    label: isWebinar ? "Webinaire en ligne" : `${formatLabel(event.format)} · ${audienceLabel(event.audience)}`,
    when: event.sessions.map((s) => `${s.starts_at} → ${s.ends_at}`).join(", ") || event.starts_at,
    where,
    badge: `${publicationBadge(event.publication)} / ${statusLabel(event.status)}`,
  };
}

export function render(page: EventPage): { cards: Card[]; more: string | null; count: string } {
  const cards: Card[] = page.data.map(card);
  const next: string | null = page.next_cursor ?? null;
  const total: number = page.total;
  const byFormat: Partial<Record<EventFormat, number>> = {};
  for (const value of page.facets?.["format"] ?? []) {
    if (value.value != null) byFormat[value.value as EventFormat] = value.count;
  }
  return { cards, more: next, count: `${total} événements (${Object.keys(byFormat).length} formats)` };
}

export function afterCreate(created: CreatedEvent): string {
  const version: number = created.version;
  return `${created.id} v${version} ${publicationBadge(created.publication)}`;
}

export function explain(problem: Problem): string {
  const fields = (problem.errors ?? []).map((e) => e.field).join(", ");
  return `${problem.status} ${problem.title}: ${problem.detail}${fields ? ` (${fields})` : ""}`;
}
