// What the whole console knows: who is signed in, and the teams.
export const state = { me: null, teams: [] };

export const isAdmin = () => state.me && state.me.role === "admin";

export const teamName = (id) => {
  if (!id) return "";
  const t = state.teams.find((x) => x.id === id);
  return t ? t.name : id;
};

// may says whether the signed-in role may act on a user at all: an admin
// on anyone; a manager on the non-admins of their own team (the API
// narrows the lists the same way).
export function mayManage(u) {
  const me = state.me;
  if (!me) return false;
  if (me.role === "admin") return true;
  return me.role === "manager" && u.role !== "admin" && !!me.team_id && u.team_id === me.team_id;
}
